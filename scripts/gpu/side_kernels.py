"""Stand-ins for a collective's CTAs, shared by overlap2.py, side_probe.py and
train_step.py --side-spin: N CTAs of a Triton kernel on a second stream.

  copy_kernel:   each CTA copies its share of a buffer, `passes` times (an all-gather's
                 receive side: read one buffer, write another);
  reduce_kernel: each CTA adds two bf16 buffers into a third (a reduce-scatter step);
  spin_kernel:   register arithmetic only, `passes` × `iters` steps: holds its SMs and
                 touches no memory.
`passes` (and `iters`) are not specialized, so every pass count runs the kernel that was
timed (Triton would otherwise compile a separate kernel for a count of 1).
"""
import triton
import triton.language as tl


@triton.jit(do_not_specialize=["passes"])
def copy_kernel(src, dst, n, passes, BLOCK: tl.constexpr, NPROG: tl.constexpr):
    pid = tl.program_id(0)
    for _ in range(passes):
        for start in range(pid * BLOCK, n, NPROG * BLOCK):
            offs = start + tl.arange(0, BLOCK)
            m = offs < n
            tl.store(dst + offs, tl.load(src + offs, mask=m), mask=m)


@triton.jit(do_not_specialize=["passes"])
def reduce_kernel(a, b, dst, n, passes, BLOCK: tl.constexpr, NPROG: tl.constexpr):
    pid = tl.program_id(0)
    for _ in range(passes):
        for start in range(pid * BLOCK, n, NPROG * BLOCK):
            offs = start + tl.arange(0, BLOCK)
            m = offs < n
            x = tl.load(a + offs, mask=m).to(tl.float32) + tl.load(b + offs, mask=m).to(tl.float32)
            tl.store(dst + offs, x.to(tl.bfloat16), mask=m)


@triton.jit(do_not_specialize=["passes", "iters"])
def spin_kernel(out, passes, iters, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    x = tl.arange(0, BLOCK).to(tl.float32) * 1e-7 + pid
    for _ in range(passes):
        for _ in range(iters):
            x = x * 0.999999 + 1e-6
    # Stored only where it cannot be true, so the loop is not dead code.
    tl.store(out + pid * BLOCK + tl.arange(0, BLOCK), x, mask=x < -1.0)
