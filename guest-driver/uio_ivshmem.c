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
 * in uapi/uio_ivshmem.h (contracts/uio_ivshmem.h in the source tree).
 *
 * BAR mappings are revocable: their page table entries are inserted at fault
 * time and zapped when the device goes (unbind, rmmod, hot-unplug), after
 * which every access raises SIGBUS. A process that keeps a mapping can thus
 * never reach what the PCI core later places at those physical addresses.
 * The counters page is kernel memory that each mapping holds a reference to;
 * it stays readable, its counts frozen.
 *
 * BAR0 is 256 bytes but can only be mapped as a whole page, so binding is
 * refused unless BAR0 starts a page, and the rest of its page is reserved:
 * no other device's registers can sit there, now or after a hot-plug.
 *
 * Everything is device-managed (pcim_/devm_), so there is no remove():
 * the driver core releases in reverse order of probe, which puts interrupt
 * handlers first, then the revocation of mappings, then the UIO device.
 *
 * Bind a device that another driver holds:
 *   modprobe uio_ivshmem
 *   echo 0000:00:04.0 > /sys/bus/pci/devices/0000:00:04.0/driver/unbind
 *   echo 0000:00:04.0 > /sys/bus/pci/drivers/uio_ivshmem/bind
 */

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uio_driver.h>
#include <linux/version.h>

#include "uapi/uio_ivshmem.h"

#define DRV_NAME "uio_ivshmem"

#define PCI_VENDOR_ID_IVSHMEM 0x1af4
#define PCI_DEVICE_ID_IVSHMEM 0x1110

#define IVSHMEM_BAR_REGS  0
#define IVSHMEM_BAR_SHMEM 2

/* An inode of /dev/uioN (there may be several nodes) with files open on it. */
struct uio_ivshmem_inode {
	struct list_head node;
	struct inode *inode;
	unsigned int opens;
};

/*
 * What a regs or shmem mapping needs: it lives as long as the bound device
 * or any such mapping, whichever is longer, since a mapping can outlive the
 * binding that made it.
 */
struct uio_ivshmem_bars {
	struct kref ref;
	/* Held for reading while PTEs are inserted, so revocation waits for them. */
	struct rw_semaphore lock;
	bool revoked;
	/*
	 * Inodes that files are open on, hence whose mappings to zap. Only valid
	 * until revocation: the UIO core stops reporting releases when the UIO
	 * device goes, which is after revocation.
	 */
	struct list_head inodes;
	unsigned long pfn[UIO_IVSHMEM_MAP_SHMEM + 1];
	unsigned long pages[UIO_IVSHMEM_MAP_SHMEM + 1];
};

struct uio_ivshmem_vector {
	struct uio_ivshmem *iv;
	unsigned int index;
	char name[40];
};

struct uio_ivshmem {
	struct uio_info info;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct resource regs_fence;
	struct uio_ivshmem_bars *bars;
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

	/*
	 * A handler never runs concurrently with itself: one writer per slot.
	 * On 64-bit kernels this is one 64-bit store (UIO_IVSHMEM_COUNTERS_F_ATOMIC64).
	 */
	WRITE_ONCE(*count, READ_ONCE(*count) + 1);
	/* Publish the count before the event that tells readers to look. */
	smp_wmb();
	uio_event_notify(&iv->info);
	return IRQ_HANDLED;
}

static void uio_ivshmem_bars_free(struct kref *ref)
{
	struct uio_ivshmem_bars *bars = container_of(ref, struct uio_ivshmem_bars, ref);
	struct uio_ivshmem_inode *ino, *tmp;

	list_for_each_entry_safe(ino, tmp, &bars->inodes, node)
		kfree(ino);
	kfree(bars);
}

static void uio_ivshmem_bars_put(void *data)
{
	struct uio_ivshmem_bars *bars = data;

	kref_put(&bars->ref, uio_ivshmem_bars_free);
}

static void uio_ivshmem_bar_vm_open(struct vm_area_struct *vma)
{
	struct uio_ivshmem_bars *bars = vma->vm_private_data;

	kref_get(&bars->ref);
}

static void uio_ivshmem_bar_vm_close(struct vm_area_struct *vma)
{
	uio_ivshmem_bars_put(vma->vm_private_data);
}

/*
 * Inserts the faulting page, then the rest of its page-table page (clipped to
 * the VMA): sequential access to shmem then faults once per 2 MiB instead of
 * once per page. On x86 the PTEs get the memory type reserved for the range
 * (write-back for shmem, uncached for regs, see uio_ivshmem_setup_maps()).
 */
static vm_fault_t uio_ivshmem_bar_fault(struct vm_fault *vmf, unsigned int map)
{
	struct vm_area_struct *vma = vmf->vma;
	struct uio_ivshmem_bars *bars = vma->vm_private_data;
	/* UIO selects a map by offset: the VMA's offset counts from map 0. */
	unsigned long first = vma->vm_pgoff - map;
	unsigned long base = bars->pfn[map] + first - (vma->vm_start >> PAGE_SHIFT);
	unsigned long start = max(vma->vm_start, vmf->address & PMD_MASK);
	unsigned long end = min(vma->vm_end, (vmf->address & PMD_MASK) + PMD_SIZE);
	unsigned long addr;
	vm_fault_t ret;

	if (first + vma_pages(vma) > bars->pages[map])
		return VM_FAULT_SIGBUS;

	down_read(&bars->lock);
	if (bars->revoked) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	ret = vmf_insert_pfn_prot(vma, vmf->address,
				  base + (vmf->address >> PAGE_SHIFT),
				  vma->vm_page_prot);
	for (addr = start; ret == VM_FAULT_NOPAGE && addr < end; addr += PAGE_SIZE) {
		/* An entry already there is left alone, so racing faults are fine. */
		if (vmf_insert_pfn_prot(vma, addr, base + (addr >> PAGE_SHIFT),
					vma->vm_page_prot) != VM_FAULT_NOPAGE)
			break;
	}
out:
	up_read(&bars->lock);
	return ret;
}

static vm_fault_t uio_ivshmem_regs_fault(struct vm_fault *vmf)
{
	return uio_ivshmem_bar_fault(vmf, UIO_IVSHMEM_MAP_REGS);
}

static vm_fault_t uio_ivshmem_shmem_fault(struct vm_fault *vmf)
{
	return uio_ivshmem_bar_fault(vmf, UIO_IVSHMEM_MAP_SHMEM);
}

static const struct vm_operations_struct uio_ivshmem_regs_vm_ops = {
	.open = uio_ivshmem_bar_vm_open,
	.close = uio_ivshmem_bar_vm_close,
	.fault = uio_ivshmem_regs_fault,
};

static const struct vm_operations_struct uio_ivshmem_shmem_vm_ops = {
	.open = uio_ivshmem_bar_vm_open,
	.close = uio_ivshmem_bar_vm_close,
	.fault = uio_ivshmem_shmem_fault,
};

static void uio_ivshmem_counters_vm_open(struct vm_area_struct *vma)
{
	get_page(vma->vm_private_data);
}

static void uio_ivshmem_counters_vm_close(struct vm_area_struct *vma)
{
	put_page(vma->vm_private_data);
}

/* Also after revocation: the page is ours and holds nothing of the device. */
static vm_fault_t uio_ivshmem_counters_fault(struct vm_fault *vmf)
{
	struct page *page = vmf->vma->vm_private_data;

	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct uio_ivshmem_counters_vm_ops = {
	.open = uio_ivshmem_counters_vm_open,
	.close = uio_ivshmem_counters_vm_close,
	.fault = uio_ivshmem_counters_fault,
};

static int uio_ivshmem_mmap(struct uio_info *info, struct vm_area_struct *vma)
{
	struct uio_ivshmem *iv = container_of(info, struct uio_ivshmem, info);
	unsigned long index = vma->vm_pgoff;

	/* The UIO core checks this too; a map must never reach past its end. */
	if (index > UIO_IVSHMEM_MAP_COUNTERS ||
	    vma_pages(vma) > info->mem[index].size >> PAGE_SHIFT)
		return -EINVAL;

	if (index == UIO_IVSHMEM_MAP_COUNTERS) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		uio_ivshmem_vma_flags(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
		vma->vm_ops = &uio_ivshmem_counters_vm_ops;
		vma->vm_private_data = iv->counters_page;
		get_page(iv->counters_page);
		return 0;
	}

	/*
	 * A private copy of device memory would silently stop sharing. A
	 * read-only open mapped MAP_SHARED has VM_MAYSHARE but not VM_SHARED.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (index == UIO_IVSHMEM_MAP_REGS) {
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		vma->vm_ops = &uio_ivshmem_regs_vm_ops;
	} else {
		vma->vm_ops = &uio_ivshmem_shmem_vm_ops;
	}
	uio_ivshmem_vma_flags(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP, 0);
	vma->vm_private_data = iv->bars;
	kref_get(&iv->bars->ref);
	return 0;
}

/* The UIO core calls open and release with its info lock held. */
static int uio_ivshmem_open(struct uio_info *info, struct inode *inode)
{
	struct uio_ivshmem *iv = container_of(info, struct uio_ivshmem, info);
	struct uio_ivshmem_bars *bars = iv->bars;
	struct uio_ivshmem_inode *ino;
	int ret = 0;

	down_write(&bars->lock);
	list_for_each_entry(ino, &bars->inodes, node) {
		if (ino->inode == inode) {
			ino->opens++;
			goto out;
		}
	}
	ino = kzalloc(sizeof(*ino), GFP_KERNEL);
	if (!ino) {
		ret = -ENOMEM;
		goto out;
	}
	ino->inode = inode;
	ino->opens = 1;
	list_add(&ino->node, &bars->inodes);
out:
	up_write(&bars->lock);
	return ret;
}

static int uio_ivshmem_release(struct uio_info *info, struct inode *inode)
{
	struct uio_ivshmem *iv = container_of(info, struct uio_ivshmem, info);
	struct uio_ivshmem_bars *bars = iv->bars;
	struct uio_ivshmem_inode *ino;

	down_write(&bars->lock);
	list_for_each_entry(ino, &bars->inodes, node) {
		if (ino->inode == inode) {
			if (!--ino->opens) {
				list_del(&ino->node);
				kfree(ino);
			}
			break;
		}
	}
	up_write(&bars->lock);
	return 0;
}

/*
 * Every mapping holds its file open, so zapping the mappings of every inode
 * with open files reaches them all (as vfio-pci does); later faults SIGBUS.
 * The inodes are alive: their files cannot be released while we hold the lock.
 */
static void uio_ivshmem_revoke(void *data)
{
	struct uio_ivshmem_bars *bars = data;
	struct uio_ivshmem_inode *ino;

	down_write(&bars->lock);
	bars->revoked = true;
	list_for_each_entry(ino, &bars->inodes, node)
		unmap_mapping_range(ino->inode->i_mapping, 0, 0, 1);
	up_write(&bars->lock);
}

/* All BARs claimed (MSI-X's too, which nobody else may touch), BAR0 mapped. */
static int uio_ivshmem_claim_bars(struct uio_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	int ret;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	ret = pcim_request_all_regions(pdev, DRV_NAME);
	if (ret)
		return dev_err_probe(&pdev->dev, ret, "cannot claim BARs\n");
	iv->regs = pcim_iomap(pdev, IVSHMEM_BAR_REGS, IVSHMEM_REGS_SIZE);
	if (!iv->regs)
		return dev_err_probe(&pdev->dev, -ENOMEM, "cannot map BAR0\n");
#else
	/* 6.12 deprecates this one call that does both. */
	ret = pcim_iomap_regions_request_all(pdev, BIT(IVSHMEM_BAR_REGS), DRV_NAME);
	if (ret)
		return dev_err_probe(&pdev->dev, ret, "cannot claim BARs\n");
	iv->regs = pcim_iomap_table(pdev)[IVSHMEM_BAR_REGS];
#endif
	return 0;
}

/*
 * The regs map is a whole page. BAR0 must start one, or the map would show
 * whatever precedes it; the rest of the page gets a resource of its own, or
 * the PCI core could place another device's BAR there (vfio-pci does the same).
 */
static int uio_ivshmem_setup_regs(struct uio_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	struct resource *bar = &pdev->resource[IVSHMEM_BAR_REGS];
	struct uio_mem *mem = &iv->info.mem[UIO_IVSHMEM_MAP_REGS];
	resource_size_t len = resource_size(bar);
	int ret;

	if (!(bar->flags & IORESOURCE_MEM) || !bar->parent ||
	    len < IVSHMEM_REG_DOORBELL + sizeof(u32)) {
		dev_err(&pdev->dev, "BAR0 is not a register bank: %pR\n", bar);
		return -ENODEV;
	}
	if (!PAGE_ALIGNED(bar->start)) {
		dev_err(&pdev->dev,
			"BAR0 %pR does not start a page; boot with pci=resource_alignment=pci:%04x:%04x to give it one\n",
			bar, PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM);
		return -ENODEV;
	}
	if (!PAGE_ALIGNED(len)) {
		struct resource *fence = &iv->regs_fence;

		fence->start = bar->end + 1;
		fence->end = bar->start + PAGE_ALIGN(len) - 1;
		fence->name = DRV_NAME " regs page";
		fence->flags = IORESOURCE_MEM | IORESOURCE_BUSY;
		/* Names what holds the rest of the page when this fails. */
		ret = devm_request_resource(&pdev->dev, bar->parent, fence);
		if (ret)
			return ret;
	}

	mem->name = UIO_IVSHMEM_MAP_REGS_NAME;
	mem->memtype = UIO_MEM_PHYS;
	mem->addr = bar->start;
	mem->size = PAGE_ALIGN(len);
	iv->bars->pfn[UIO_IVSHMEM_MAP_REGS] = PHYS_PFN(bar->start);
	iv->bars->pages[UIO_IVSHMEM_MAP_REGS] = PAGE_ALIGN(len) >> PAGE_SHIFT;
	return 0;
}

static int uio_ivshmem_setup_shmem(struct uio_ivshmem *iv)
{
	struct pci_dev *pdev = iv->pdev;
	struct resource *bar = &pdev->resource[IVSHMEM_BAR_SHMEM];
	struct uio_mem *mem = &iv->info.mem[UIO_IVSHMEM_MAP_SHMEM];
	resource_size_t len = resource_size(bar);
	void *wb;

	/* Only whole pages can be shared without exposing a neighbour. */
	if (!(bar->flags & IORESOURCE_MEM) || !PAGE_ALIGNED(bar->start) ||
	    len < PAGE_SIZE || !PAGE_ALIGNED(len)) {
		dev_err(&pdev->dev, "BAR2 is not whole pages of memory: %pR\n", bar);
		return -ENODEV;
	}
	/*
	 * Never used through this kernel mapping: it reserves the write-back
	 * memory type for BAR2 while bound. x86 PAT gives PTEs inserted at fault
	 * time the type reserved for their range, and no reservation means uncached.
	 */
	wb = devm_memremap(&pdev->dev, bar->start, len, MEMREMAP_WB);
	if (IS_ERR(wb))
		return dev_err_probe(&pdev->dev, PTR_ERR(wb),
				     "cannot reserve BAR2 as write-back\n");

	mem->name = UIO_IVSHMEM_MAP_SHMEM_NAME;
	mem->memtype = UIO_MEM_PHYS;
	mem->addr = bar->start;
	mem->size = len;
	iv->bars->pfn[UIO_IVSHMEM_MAP_SHMEM] = PHYS_PFN(bar->start);
	iv->bars->pages[UIO_IVSHMEM_MAP_SHMEM] = len >> PAGE_SHIFT;
	return 0;
}

static void uio_ivshmem_put_page(void *page)
{
	put_page(page);
}

static int uio_ivshmem_setup_counters(struct uio_ivshmem *iv)
{
	struct uio_mem *mem = &iv->info.mem[UIO_IVSHMEM_MAP_COUNTERS];
	struct uio_ivshmem_counters *c;
	int ret;

	BUILD_BUG_ON(sizeof(*c) > PAGE_SIZE);
	/* Mappings hold their own references, so it outlives an unbind. */
	iv->counters_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!iv->counters_page)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&iv->pdev->dev, uio_ivshmem_put_page,
				       iv->counters_page);
	if (ret)
		return ret;

	c = page_address(iv->counters_page);
	c->magic = UIO_IVSHMEM_COUNTERS_MAGIC;
	c->hdr_size = offsetof(struct uio_ivshmem_counters, count);
	c->count_size = sizeof(c->count[0]);
	c->flags = IS_ENABLED(CONFIG_64BIT) ? UIO_IVSHMEM_COUNTERS_F_ATOMIC64 : 0;
	iv->counters = c;

	/* Kernel memory: its address is not shown in sysfs. */
	mem->name = UIO_IVSHMEM_MAP_COUNTERS_NAME;
	mem->memtype = UIO_MEM_LOGICAL;
	mem->addr = 0;
	mem->size = PAGE_SIZE;
	return 0;
}

static int uio_ivshmem_alloc_bars(struct uio_ivshmem *iv)
{
	struct uio_ivshmem_bars *bars;

	bars = kzalloc(sizeof(*bars), GFP_KERNEL);
	if (!bars)
		return -ENOMEM;
	kref_init(&bars->ref);
	init_rwsem(&bars->lock);
	INIT_LIST_HEAD(&bars->inodes);
	iv->bars = bars;
	return devm_add_action_or_reset(&iv->pdev->dev, uio_ivshmem_bars_put, bars);
}

/* MSI-X entries stay masked until their handler is requested. */
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
		ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i),
				       uio_ivshmem_irq, 0, vec->name, vec);
		if (ret)
			return dev_err_probe(&pdev->dev, ret,
					     "cannot request vector %u\n", i);
	}
	return 0;
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
	struct device *dev = &pdev->dev;
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

	iv = devm_kzalloc(dev, struct_size(iv, vec, nvec), GFP_KERNEL);
	if (!iv)
		return -ENOMEM;
	iv->pdev = pdev;
	pci_set_drvdata(pdev, iv);

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable device\n");
	ret = uio_ivshmem_claim_bars(iv);
	if (ret)
		return ret;
	ret = uio_ivshmem_alloc_bars(iv);
	if (ret)
		return ret;
	ret = uio_ivshmem_setup_regs(iv);
	if (ret)
		return ret;
	ret = uio_ivshmem_setup_shmem(iv);
	if (ret)
		return ret;
	ret = uio_ivshmem_setup_counters(iv);
	if (ret)
		return ret;

	if (nvec) {
		/* MSI-X messages are bus-master writes. */
		pci_set_master(pdev);
		/* Freed by the PCI core, the device being managed. */
		ret = pci_alloc_irq_vectors(pdev, 1, nvec, PCI_IRQ_MSIX);
		if (ret < 0)
			return dev_err_probe(dev, ret, "cannot enable MSI-X\n");
		iv->nr_vectors = ret;
	}
	iv->counters->nr_vectors = iv->nr_vectors;

	/* Before the UIO device appears, so its users always find them. */
	ret = devm_device_add_group(dev, &uio_ivshmem_attr_group);
	if (ret)
		return ret;

	iv->info.name = UIO_IVSHMEM_NAME;
	iv->info.version = UIO_IVSHMEM_ABI_VERSION;
	iv->info.irq = iv->nr_vectors ? UIO_IRQ_CUSTOM : UIO_IRQ_NONE;
	iv->info.mmap = uio_ivshmem_mmap;
	iv->info.open = uio_ivshmem_open;
	iv->info.release = uio_ivshmem_release;
	ret = devm_uio_register_device(dev, &iv->info);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register UIO device\n");

	/* Undone before the UIO device goes, while it still reports releases. */
	ret = devm_add_action_or_reset(dev, uio_ivshmem_revoke, iv->bars);
	if (ret)
		return ret;

	/* Undone first: handlers notify the UIO device. */
	ret = uio_ivshmem_request_irqs(iv);
	if (ret)
		return ret;

	dev_info(dev, "%s, %u vectors, %llu KiB of shared memory\n",
		 iv->nr_vectors ? "doorbell" : "plain", iv->nr_vectors,
		 (unsigned long long)iv->info.mem[UIO_IVSHMEM_MAP_SHMEM].size >> 10);
	return 0;
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
};
module_pci_driver(uio_ivshmem_driver);

MODULE_DESCRIPTION("UIO driver for the QEMU ivshmem device with per-vector interrupt counters");
MODULE_LICENSE("GPL");
MODULE_VERSION(UIO_IVSHMEM_DRV_VERSION);
