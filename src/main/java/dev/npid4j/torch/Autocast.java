package dev.npid4j.torch;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's CPU autocast to bfloat16 around a forward pass, as {@code torch.autocast("cpu",
 * dtype=torch.bfloat16)} does in Python: convolutions, linear layers and matrix products run in
 * bfloat16 (oneDNN's AVX512-BF16 / AMX kernels where the CPU has them), the weights stay float32.
 * The state is per thread. Leaving the outermost region drops the cache of bfloat16 weight
 * copies, which would otherwise survive the optimizer step and hold stale weights.
 */
public final class Autocast implements AutoCloseable {
  private final boolean wasEnabled;
  private final ScalarType previousDtype;

  private Autocast() {
    wasEnabled = torch.is_autocast_enabled(DeviceType.CPU);
    previousDtype = torch.get_autocast_dtype(DeviceType.CPU);
    torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
    torch.set_autocast_enabled(DeviceType.CPU, true);
    torch.increment_nesting();
  }

  /** Enters a bfloat16 autocast region on this thread; close it on the same thread. */
  public static Autocast cpuBfloat16() {
    Torch.load();
    return new Autocast();
  }

  @Override
  public void close() {
    torch.set_autocast_enabled(DeviceType.CPU, wasEnabled);
    torch.set_autocast_dtype(DeviceType.CPU, previousDtype);
    if (torch.decrement_nesting() == 0) {
      torch.clear_cache();
    }
  }
}
