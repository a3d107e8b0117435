package dev.npid4j.loss;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Loss value and its gradient with respect to each model output (same shape as the output,
 * zero on ignored rows, loss weight included). Feed each gradient to {@code output.backward}.
 */
public record LossOutput(double loss, List<Tensor> gradients) {}
