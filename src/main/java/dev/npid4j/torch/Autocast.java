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
  private final DeviceType type;
  private final boolean wasEnabled;
  private final ScalarType previousDtype;

  private Autocast(DeviceType type) {
    this.type = type;
    wasEnabled = torch.is_autocast_enabled(type);
    previousDtype = torch.get_autocast_dtype(type);
    torch.set_autocast_dtype(type, ScalarType.BFloat16);
    torch.set_autocast_enabled(type, true);
    torch.increment_nesting();
  }

  /**
   * Enters a bfloat16 autocast region on this thread for the tensors of {@code device} (close it
   * on the same thread): CUDA autocast on a GPU (no loss scaling needed, unlike float16), CPU
   * autocast otherwise.
   */
  public static Autocast bfloat16(org.bytedeco.pytorch.Device device) {
    return bfloat16(device.is_cuda() ? DeviceType.CUDA : DeviceType.CPU);
  }

  private static Autocast bfloat16(DeviceType type) {
    Torch.load();
    return new Autocast(type);
  }

  @Override
  public void close() {
    torch.set_autocast_enabled(type, wasEnabled);
    torch.set_autocast_dtype(type, previousDtype);
    if (torch.decrement_nesting() == 0) {
      torch.clear_cache();
    }
  }
}
