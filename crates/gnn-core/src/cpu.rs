//! CPU settings for training: subnormal flushing and memory reuse.
//!
//! Training drives some values (gradients of nearly dead units, Adam's second moments) into
//! the subnormal range, where x86 arithmetic runs up to a hundred times slower: an NCI1 run went
//! from 1.2 s to over 30 s per epoch after epoch 30, 89% of the time in the matrix-multiply
//! kernel. Flushing subnormals to zero (the FTZ and DAZ bits of MXCSR) removes that; it changes
//! results only below `1.2e-38` in float32.

/// Sets flush-to-zero and denormals-are-zero on this thread and on every thread of the rayon
/// pool that Burn's CPU backends compute in (MXCSR is per thread). Call it once at the start of
/// a program, before any tensor operation; later calls leave the pool as it is. Does nothing on
/// other architectures.
pub fn flush_subnormals() {
    set_flush_bits();
    // The global pool can be configured only once; an error means it already exists, and then
    // only this thread is set.
    let _ = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| set_flush_bits())
        .build_global();
}

/// Keeps freed memory in the process for reuse (glibc's `malloc`), instead of returning every
/// large block to the kernel. Call it once at the start of a program. Does nothing off Linux
/// with glibc.
///
/// Tensor operations allocate a fresh output each time. By default glibc serves blocks above
/// a threshold (128 KiB at first) with `mmap` and unmaps them when freed, so the next
/// operation's output takes page faults on memory the kernel zeroes again. With 64-feature
/// batches of 41k nodes (PyG's benchmark scale M) that doubled the time of a TopK pooling
/// forward and backward (32 ms against 21 ms, `bench_pool --scale M`). This sets the `mmap`
/// threshold to glibc's largest, 32 MiB, and trims the heap only above 1 GiB free.
pub fn reuse_freed_memory() {
    /// glibc's ceiling for the threshold on 64-bit targets (`4 MiB · sizeof(long)`); `mallopt`
    /// refuses more.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    const LARGEST_MMAP_THRESHOLD: libc::c_int = 32 << 20;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; both values are in range.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGEST_MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(target_arch = "x86_64")]
fn set_flush_bits() {
    const FLUSH_TO_ZERO: u32 = 1 << 15;
    const DENORMALS_ARE_ZERO: u32 = 1 << 6;
    let mut csr: u32 = 0;
    // SAFETY: reads this thread's MXCSR into `csr` and writes it back with two more control
    // bits set; SSE is part of every x86_64 target and nothing else is touched.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
        csr |= FLUSH_TO_ZERO | DENORMALS_ARE_ZERO;
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags));
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn set_flush_bits() {}

#[cfg(test)]
mod tests {
    #[test]
    fn subnormals_become_zero_after_the_call() {
        let tiny = std::hint::black_box(1e-30f32);
        assert!(tiny * 1e-10 > 0.0, "subnormal arithmetic before");
        super::flush_subnormals();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(std::hint::black_box(tiny) * 1e-10, 0.0);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn large_blocks_come_from_the_heap_after_the_call() {
        super::reuse_freed_memory();
        // SAFETY: mallinfo2 only reads allocator statistics.
        let mapped_bytes = || unsafe { libc::mallinfo2() }.hblkhd;
        // The statistics are the process's: a test on another thread may map a block of its
        // own meanwhile. Ours is mmapped only if every try sees the mapped bytes grow by it.
        let mmapped_every_time = (0..3).all(|_| {
            let before = mapped_bytes();
            // 24 MiB: above glibc's first threshold (128 KiB), below the one set.
            let block = std::hint::black_box(vec![1u8; 24 << 20]);
            let grew = mapped_bytes().saturating_sub(before) >= 24 << 20;
            drop(block);
            grew
        });
        assert!(!mmapped_every_time, "a 24 MiB block was mmapped");
    }
}
