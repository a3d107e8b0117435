package dev.npid4j.torch;

import dev.npid4j.UserError;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;

/**
 * Where tensors live: the CPU, or (MACHINE.DEVICE=gpu, GPU build) the CUDA device of this
 * process's local rank, as VISSL gives each local rank its own GPU. The data loader always works
 * on the CPU; batches, the model, the memory bank and the optimizer state move to the device,
 * and what is written to disk or scored by kNN comes back to the CPU.
 */
public final class Devices {
  private Devices() {}

  /**
   * The CPU device. It holds its own reference: this class may first be loaded inside a
   * PointerScope (a training step's), and a Device made there would be freed with the scope.
   */
  public static final Device CPU = new Device(DeviceType.CPU).retainReference();

  /**
   * The device for VISSL's MACHINE.DEVICE ("cpu" or "gpu"); for "gpu", CUDA device
   * {@code localRank}. A CPU build of libtorch, or a machine without enough GPUs, is a user error.
   */
  public static Device forMachine(String machineDevice, int localRank) {
    if (!machineDevice.equals("gpu")) {
      return CPU;
    }
    Torch.load();
    if (!torch.cuda_is_available()) {
      throw new UserError("config.MACHINE.DEVICE=gpu, but libtorch sees no CUDA device: this is the CPU build of npid4j"
          + " (rebuild with NPID4J_GPU=1 bin/npid4j ..., which uses Maven's -Pgpu profile, on a machine with an NVIDIA GPU"
          + " and driver), or set config.MACHINE.DEVICE=cpu");
    }
    int count = torch.cuda_device_count();
    if (localRank >= count) {
      throw new UserError("config.MACHINE.DEVICE=gpu: local rank " + localRank + " needs GPU " + localRank + " but this machine has "
          + count + "; set config.DISTRIBUTED.NUM_PROC_PER_NODE to at most " + count);
    }
    // held for the run, as CPU is: a caller inside a PointerScope would otherwise free it with the scope
    return new Device(DeviceType.CUDA, (byte) localRank).retainReference();
  }

  /** The device of a module's first parameter (the CPU for a module without parameters). */
  public static Device of(Module m) {
    var params = m.parameters();
    return params.size() == 0 ? CPU : params.get(0).device();
  }

  /** {@code t} on {@code device}: the tensor itself when it is already there. */
  public static Tensor to(Tensor t, Device device) {
    return t.device().equals(device) ? t : t.to(device, t.scalar_type(), false, false, new org.bytedeco.pytorch.MemoryFormatOptional());
  }

  /** {@code t} in main memory (for files, kNN, Java arrays): the tensor itself when it is there. */
  public static Tensor cpu(Tensor t) {
    return t.is_cuda() ? t.cpu() : t;
  }
}
