// SPDX-License-Identifier: GPL-2.0
/*
 * uio_ivshmem: UIO driver for QEMU's inter-VM shared memory device (PCI
 * 1af4:1110, ivshmem-plain and ivshmem-doorbell).
 *
 * Userspace gets three maps: "regs" (BAR0, uncached), "shmem" (BAR2, mapped
 * write-back because uncached shared memory is very slow under KVM) and a
 * read-only "counters" page holding one interrupt counter per MSI-X vector,
 * so a process woken by the UIO event can tell which vectors fired. Every
 * vector has its own handler. ivshmem-plain has no MSI-X and binds without
 * interrupts: read() and write() on its /dev/uioN fail with EIO. The ABI is
 * in uapi/uio_ivshmem.h.
 *
 * Bind a device that another driver holds:
 *   modprobe uio_ivshmem
 *   echo 0000:00:04.0 > /sys/bus/pci/devices/0000:00:04.0/driver/unbind
 *   echo 0000:00:04.0 > /sys/bus/pci/drivers/uio_ivshmem/bind
 */

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/uio_driver.h>
#include <linux/version.h>

#include "uapi/uio_ivshmem.h"

#define DRV_NAME "uio_ivshmem"

#define PCI_VENDOR_ID_IVSHMEM 0x1af4
#define PCI_DEVICE_ID_IVSHMEM 0x1110

#define IVSHMEM_BAR_REGS  0
#define IVSHMEM_BAR_SHMEM 2

struct uio_ivshmem_vector {
	struct uio_ivshmem *iv;
	unsigned int index;
	char name[40];
};

struct uio_ivshmem {
	struct uio_info info;
	struct pci_dev *pdev;
	void __iomem *regs;
	/* Mappings hold their own references, so it outlives an unbind. */
	struct page *counters_page;
	struct uio_ivshmem_counters *counters;
	unsigned int nr_vectors;
	struct uio_ivshmem_vector vec[];
};

/* vma->vm_flags became read-only in 6.3; writers must use the helpers. */
static void uio_ivshmem_vma_flags(struct vm_area_struct *vma,
				  vm_flags_t set, vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

static irqreturn_t uio_ivshmem_irq(int irq, void *data)
{
	struct uio_ivshmem_vector *vec = data;
	struct uio_ivshmem *iv = vec->iv;
	__u64 *count = &iv->counters->count[vec->index];

	/* A handler never runs concurrently with itself: one writer per slot. */
	WRITE_ONCE(*count, READ_ONCE(*count) + 1);
	/* Publish the count before the event that tells readers to look. */
	smp_wmb();
	uio_event_notify(&iv->info);
	return IRQ_HANDLED;
}

static int uio_ivshmem_mmap_counters(struct uio_ivshmem *iv,
				     struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	uio_ivshmem_vma_flags(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
	/* The page table entry takes a page reference, dropped at munmap. */
	return vm_insert_page(vma, vma->vm_start, iv->counters_page);
}

static int uio_ivshmem_mmap(struct uio_info *info, struct vm_area_struct *vma)
{
	struct uio_ivshmem *iv = container_of(info, struct uio_ivshmem, info);
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long index = vma->vm_pgoff;
	struct uio_mem *mem;

	/* The UIO core checks this too; a map must never reach past its BAR. */
	if (index > UIO_IVSHMEM_MAP_COUNTERS || len > info->mem[index].size)
		return -EINVAL;
	mem = &info->mem[index];

	switch (index) {
	case UIO_IVSHMEM_MAP_REGS:
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		fallthrough;
	case UIO_IVSHMEM_MAP_SHMEM:
		/* A private copy of device memory would silently stop sharing. */
		if (!(vma->vm_flags & VM_SHARED))
			return -EINVAL;
		return io_remap_pfn_range(vma, vma->vm_start,
					  mem->addr >> PAGE_SHIFT, len,
					  vma->vm_page_prot);
	case UIO_IVSHMEM_MAP_COUNTERS:
		return uio_ivshmem_mmap_counters(iv, vma);
	}
	return -EINVAL;
}

static int uio_ivshmem_setup_maps(struct uio_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	resource_size_t start, len;
	struct uio_mem *mem;

	start = pci_resource_start(pdev, IVSHMEM_BAR_REGS);
	len = pci_resource_len(pdev, IVSHMEM_BAR_REGS);
	if (!(pci_resource_flags(pdev, IVSHMEM_BAR_REGS) & IORESOURCE_MEM) ||
	    len < IVSHMEM_REG_DOORBELL + sizeof(u32)) {
		dev_err(&pdev->dev, "BAR0 is not a register bank: %pR\n",
			&pdev->resource[IVSHMEM_BAR_REGS]);
		return -ENODEV;
	}
	mem = &iv->info.mem[UIO_IVSHMEM_MAP_REGS];
	mem->name = UIO_IVSHMEM_MAP_REGS_NAME;
	mem->memtype = UIO_MEM_PHYS;
	mem->addr = start & PAGE_MASK;
	mem->offs = start & ~PAGE_MASK;
	mem->size = PAGE_ALIGN(mem->offs + len);

	/* Only whole pages can be shared without exposing a neighbour. */
	start = pci_resource_start(pdev, IVSHMEM_BAR_SHMEM);
	len = pci_resource_len(pdev, IVSHMEM_BAR_SHMEM);
	if (!(pci_resource_flags(pdev, IVSHMEM_BAR_SHMEM) & IORESOURCE_MEM) ||
	    !PAGE_ALIGNED(start) || len < PAGE_SIZE || !PAGE_ALIGNED(len)) {
		dev_err(&pdev->dev, "BAR2 is not whole pages of memory: %pR\n",
			&pdev->resource[IVSHMEM_BAR_SHMEM]);
		return -ENODEV;
	}
	mem = &iv->info.mem[UIO_IVSHMEM_MAP_SHMEM];
	mem->name = UIO_IVSHMEM_MAP_SHMEM_NAME;
	mem->memtype = UIO_MEM_PHYS;
	mem->addr = start;
	mem->size = len;

	/* Kernel memory: its address is not shown in sysfs. */
	mem = &iv->info.mem[UIO_IVSHMEM_MAP_COUNTERS];
	mem->name = UIO_IVSHMEM_MAP_COUNTERS_NAME;
	mem->memtype = UIO_MEM_LOGICAL;
	mem->addr = 0;
	mem->size = PAGE_SIZE;
	return 0;
}

static int uio_ivshmem_request_irqs(struct uio_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	unsigned int i;
	int ret;

	for (i = 0; i < iv->nr_vectors; i++) {
		struct uio_ivshmem_vector *vec = &iv->vec[i];

		vec->iv = iv;
		vec->index = i;
		snprintf(vec->name, sizeof(vec->name), DRV_NAME "[%s]-%u",
			 pci_name(pdev), i);
		ret = request_irq(pci_irq_vector(pdev, i), uio_ivshmem_irq, 0,
				  vec->name, vec);
		if (ret) {
			dev_err(&pdev->dev, "cannot request vector %u: %d\n",
				i, ret);
			goto out_free_irqs;
		}
	}
	return 0;

out_free_irqs:
	while (i--)
		free_irq(pci_irq_vector(pdev, i), &iv->vec[i]);
	return ret;
}

static void uio_ivshmem_free_irqs(struct uio_ivshmem *iv)
{
	unsigned int i;

	for (i = 0; i < iv->nr_vectors; i++)
		free_irq(pci_irq_vector(iv->pdev, i), &iv->vec[i]);
}

static ssize_t ivshmem_mode_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct uio_ivshmem *iv = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", iv->nr_vectors ? "doorbell" : "plain");
}
static DEVICE_ATTR_RO(ivshmem_mode);

static ssize_t ivshmem_vectors_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct uio_ivshmem *iv = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", iv->nr_vectors);
}
static DEVICE_ATTR_RO(ivshmem_vectors);

static ssize_t ivshmem_peer_id_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct uio_ivshmem *iv = dev_get_drvdata(dev);
	u32 id;

	if (!iv->nr_vectors)
		return sysfs_emit(buf, "-1\n");
	id = ioread32(iv->regs + IVSHMEM_REG_IVPOSITION);
	if (id > IVSHMEM_MAX_PEER_ID)
		return -EIO;
	return sysfs_emit(buf, "%u\n", id);
}
static DEVICE_ATTR_RO(ivshmem_peer_id);

static struct attribute *uio_ivshmem_attrs[] = {
	&dev_attr_ivshmem_mode.attr,
	&dev_attr_ivshmem_vectors.attr,
	&dev_attr_ivshmem_peer_id.attr,
	NULL,
};

static const struct attribute_group uio_ivshmem_attr_group = {
	.attrs = uio_ivshmem_attrs,
};

static int uio_ivshmem_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	struct uio_ivshmem *iv;
	int nvec = 0;
	int ret;

	/* ivshmem-doorbell always has MSI-X, ivshmem-plain never does. */
	if (pdev->msix_cap) {
		nvec = pci_msix_vec_count(pdev);
		if (nvec < 0)
			return nvec;
		nvec = min(nvec, UIO_IVSHMEM_MAX_VECTORS);
	}

	iv = kzalloc(struct_size(iv, vec, nvec), GFP_KERNEL);
	if (!iv)
		return -ENOMEM;
	iv->pdev = pdev;
	pci_set_drvdata(pdev, iv);

	ret = pci_enable_device(pdev);
	if (ret) {
		dev_err(&pdev->dev, "cannot enable device: %d\n", ret);
		goto out_free;
	}
	ret = pci_request_regions(pdev, DRV_NAME);
	if (ret) {
		dev_err(&pdev->dev, "cannot claim BARs: %d\n", ret);
		goto out_disable;
	}
	ret = uio_ivshmem_setup_maps(iv);
	if (ret)
		goto out_release;
	iv->regs = pci_iomap(pdev, IVSHMEM_BAR_REGS, IVSHMEM_REGS_SIZE);
	if (!iv->regs) {
		ret = -ENOMEM;
		goto out_release;
	}

	iv->counters_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!iv->counters_page) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	iv->counters = page_address(iv->counters_page);

	if (nvec) {
		/* MSI-X messages are bus-master writes. */
		pci_set_master(pdev);
		ret = pci_alloc_irq_vectors(pdev, 1, nvec, PCI_IRQ_MSIX);
		if (ret < 0) {
			dev_err(&pdev->dev, "cannot enable MSI-X: %d\n", ret);
			goto out_free_page;
		}
		iv->nr_vectors = ret;
	}
	iv->counters->magic = UIO_IVSHMEM_COUNTERS_MAGIC;
	iv->counters->nr_vectors = iv->nr_vectors;
	iv->counters->hdr_size = offsetof(struct uio_ivshmem_counters, count);
	iv->counters->count_size = sizeof(__u64);
	iv->counters->flags = IS_ENABLED(CONFIG_64BIT) ? UIO_IVSHMEM_COUNTERS_F_ATOMIC64 : 0;

	/* Before the UIO device appears, so its users always find them. */
	ret = device_add_group(&pdev->dev, &uio_ivshmem_attr_group);
	if (ret)
		goto out_free_vectors;

	iv->info.name = UIO_IVSHMEM_NAME;
	iv->info.version = UIO_IVSHMEM_ABI_VERSION;
	iv->info.irq = iv->nr_vectors ? UIO_IRQ_CUSTOM : UIO_IRQ_NONE;
	iv->info.mmap = uio_ivshmem_mmap;
	ret = uio_register_device(&pdev->dev, &iv->info);
	if (ret) {
		dev_err(&pdev->dev, "cannot register UIO device: %d\n", ret);
		goto out_remove_group;
	}

	/* MSI-X entries stay masked until their handler is requested. */
	ret = uio_ivshmem_request_irqs(iv);
	if (ret)
		goto out_unregister;

	dev_info(&pdev->dev, "%s, %u vectors, %llu KiB of shared memory\n",
		 iv->nr_vectors ? "doorbell" : "plain", iv->nr_vectors,
		 (unsigned long long)iv->info.mem[UIO_IVSHMEM_MAP_SHMEM].size >> 10);
	return 0;

out_unregister:
	uio_unregister_device(&iv->info);
out_remove_group:
	device_remove_group(&pdev->dev, &uio_ivshmem_attr_group);
out_free_vectors:
	if (iv->nr_vectors)
		pci_free_irq_vectors(pdev);
out_free_page:
	put_page(iv->counters_page);
out_unmap:
	pci_iounmap(pdev, iv->regs);
out_release:
	pci_release_regions(pdev);
out_disable:
	pci_disable_device(pdev);
out_free:
	kfree(iv);
	return ret;
}

static void uio_ivshmem_remove(struct pci_dev *pdev)
{
	struct uio_ivshmem *iv = pci_get_drvdata(pdev);

	/* Handlers use the UIO device: gone before it is. */
	uio_ivshmem_free_irqs(iv);
	uio_unregister_device(&iv->info);
	device_remove_group(&pdev->dev, &uio_ivshmem_attr_group);
	if (iv->nr_vectors)
		pci_free_irq_vectors(pdev);
	put_page(iv->counters_page);
	pci_iounmap(pdev, iv->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(iv);
}

static const struct pci_device_id uio_ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, uio_ivshmem_ids);

static struct pci_driver uio_ivshmem_driver = {
	.name = DRV_NAME,
	.id_table = uio_ivshmem_ids,
	.probe = uio_ivshmem_probe,
	.remove = uio_ivshmem_remove,
};
module_pci_driver(uio_ivshmem_driver);

MODULE_DESCRIPTION("UIO driver for the QEMU ivshmem device with per-vector interrupt counters");
MODULE_LICENSE("GPL");
MODULE_VERSION(UIO_IVSHMEM_DRV_VERSION);
