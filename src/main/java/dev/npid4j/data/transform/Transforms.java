package dev.npid4j.data.transform;

import dev.npid4j.config.ConfigError;
import dev.npid4j.config.Keys;
import dev.npid4j.data.Image;
import dev.npid4j.data.ImageBuffers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Builds a transform pipeline from VISSL's TRANSFORMS list ({@code - name: RandomResizedCrop,
 * size: 224, ...}); parameters and defaults are torchvision's. Every mistake names the entry.
 */
public final class Transforms implements Transform {
  private static final Map<String, Set<String>> PARAMS = Map.of(
      "GaussianBlur", Set.of("kernel_size", "sigma"),
      "RandomResizedCrop", Set.of("size", "scale", "ratio", "interpolation"),
      "Resize", Set.of("size", "interpolation"),
      "CenterCrop", Set.of("size"),
      "RandomHorizontalFlip", Set.of("p"),
      "ColorJitter", Set.of("brightness", "contrast", "saturation", "hue"),
      "RandomGrayscale", Set.of("p"),
      "ToTensor", Set.of(),
      "Normalize", Set.of("mean", "std", "inplace"));

  private final List<Transform> steps;

  private Transforms(List<Transform> steps) {
    this.steps = List.copyOf(steps);
  }

  @Override
  public Image apply(Image img, SplittableRandom random) {
    Image out = img;
    for (Transform t : steps) {
      Image next = t.apply(out, random);
      if (next.data() != out.data()) {
        ImageBuffers.recycle(out.data()); // only while the loader builds a batch (ImageBuffers' ownership rule)
      }
      out = next;
    }
    return out;
  }

  public int size() {
    return steps.size();
  }

  /** Parses {@code entries} (the TRANSFORMS list at {@code path}). ToTensor is required before Normalize. */
  public static Transforms fromConfig(List<Object> entries, String path) {
    List<Transform> steps = new ArrayList<>();
    boolean tensor = false;
    for (int i = 0; i < entries.size(); i++) {
      String at = path + "[" + i + "]";
      if (!(entries.get(i) instanceof Map<?, ?> raw) || !(raw.get("name") instanceof String name)) {
        throw new ConfigError(at + " must be a map with a 'name', e.g. {name: ToTensor}, got " + entries.get(i));
      }
      Set<String> allowed = PARAMS.get(name);
      if (allowed == null) {
        String hint = Keys.closest(name, PARAMS.keySet());
        throw new ConfigError(at + ": unknown transform '" + name + "'" + (hint != null ? "; did you mean '" + hint + "'?" : "")
            + " (available: " + String.join(", ", PARAMS.keySet().stream().sorted().toList()) + ")");
      }
      Params p = new Params(raw, at + " (" + name + ")");
      for (Object k : raw.keySet()) {
        if (!k.equals("name") && !allowed.contains(k)) {
          String hint = Keys.closest(String.valueOf(k), allowed);
          throw new ConfigError(p.at + ": unknown parameter '" + k + "'" + (hint != null ? "; did you mean '" + hint + "'?" : "")
              + (allowed.isEmpty() ? " (it takes none)" : " (takes " + String.join(", ", allowed.stream().sorted().toList()) + ")"));
        }
      }
      if (name.equals("Normalize") && !tensor) {
        throw new ConfigError(p.at + ": Normalize works on tensors; put ToTensor before it");
      }
      if (tensor && !name.equals("Normalize")) {
        throw new ConfigError(p.at + ": " + name + " after ToTensor is not supported; apply image transforms before ToTensor");
      }
      steps.add(switch (name) {
        case "RandomResizedCrop" -> {
          int[] size = p.size("size", null);
          double[] scale = p.range("scale", new double[] {0.08, 1.0});
          double[] ratio = p.range("ratio", new double[] {3.0 / 4.0, 4.0 / 3.0});
          p.bilinearOnly();
          if (scale[0] <= 0 || scale[0] > scale[1] || scale[1] > 1 || ratio[0] <= 0 || ratio[0] > ratio[1]) {
            throw new ConfigError(p.at + ": scale must satisfy 0 < min <= max <= 1 and ratio 0 < min <= max");
          }
          yield new Geometry.RandomResizedCrop(size[0], size[1], scale[0], scale[1], ratio[0], ratio[1]);
        }
        case "Resize" -> {
          p.bilinearOnly();
          Object s = raw.get("size");
          if (s instanceof Number) {
            yield new Geometry.Resize(p.positiveInt("size"), 0, 0);
          }
          int[] hw = p.size("size", null);
          yield new Geometry.Resize(0, hw[0], hw[1]);
        }
        case "CenterCrop" -> {
          int[] hw = p.size("size", null);
          yield new Geometry.CenterCrop(hw[0], hw[1]);
        }
        case "RandomHorizontalFlip" -> new Geometry.RandomHorizontalFlip(p.probability("p", 0.5));
        case "GaussianBlur" -> {
          int[] k = p.size("kernel_size", null); // torchvision: [kx, ky]
          if (k[0] % 2 == 0 || k[1] % 2 == 0) {
            throw new ConfigError(p.at + ": kernel_size must be odd, got " + raw.get("kernel_size"));
          }
          double[] sigma = raw.get("sigma") instanceof Number n ? new double[] {n.doubleValue(), n.doubleValue()}
              : p.range("sigma", new double[] {0.1, 2.0});
          if (sigma[0] <= 0 || sigma[0] > sigma[1]) {
            throw new ConfigError(p.at + ": sigma must be positive, and min <= max");
          }
          yield new Blur.GaussianBlur(k[0], k[1], sigma[0], sigma[1]);
        }
        case "RandomGrayscale" -> new Color.RandomGrayscale(p.probability("p", 0.1));
        case "ColorJitter" -> new Color.ColorJitter(p.jitter("brightness", 1), p.jitter("contrast", 1),
            p.jitter("saturation", 1), p.hue());
        case "ToTensor" -> {
          tensor = true;
          yield new TensorOps.ToTensor();
        }
        case "Normalize" -> {
          float[] mean = p.floats("mean");
          float[] std = p.floats("std");
          if (mean.length != std.length) {
            throw new ConfigError(p.at + ": mean and std must have the same length, got " + mean.length + " and " + std.length);
          }
          for (float s : std) {
            if (!(s > 0)) {
              throw new ConfigError(p.at + ": std values must be > 0");
            }
          }
          yield new TensorOps.Normalize(mean, std);
        }
        default -> throw new IllegalStateException(name);
      });
    }
    return new Transforms(steps);
  }

  /** Typed access to one entry's parameters with errors that name the entry. */
  private static final class Params {
    final Map<?, ?> raw;
    final String at;

    Params(Map<?, ?> raw, String at) {
      this.raw = raw;
      this.at = at;
    }

    int[] size(String key, int[] dflt) {
      Object v = raw.get(key);
      if (v == null) {
        if (dflt == null) {
          throw new ConfigError(at + ": '" + key + "' is required");
        }
        return dflt;
      }
      if (v instanceof Long l && l > 0) {
        return new int[] {l.intValue(), l.intValue()};
      }
      if (v instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Long h && list.get(1) instanceof Long w && h > 0 && w > 0) {
        return new int[] {h.intValue(), w.intValue()};
      }
      throw new ConfigError(at + ": '" + key + "' must be a positive integer or [height, width], got " + v);
    }

    int positiveInt(String key) {
      Object v = raw.get(key);
      if (v instanceof Long l && l > 0) {
        return l.intValue();
      }
      throw new ConfigError(at + ": '" + key + "' must be a positive integer, got " + v);
    }

    double[] range(String key, double[] dflt) {
      Object v = raw.get(key);
      if (v == null) {
        return dflt;
      }
      if (v instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Number a && list.get(1) instanceof Number b) {
        return new double[] {a.doubleValue(), b.doubleValue()};
      }
      throw new ConfigError(at + ": '" + key + "' must be a pair [min, max], got " + v);
    }

    double probability(String key, double dflt) {
      Object v = raw.get(key);
      if (v == null) {
        return dflt;
      }
      if (v instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1) {
        return n.doubleValue();
      }
      throw new ConfigError(at + ": '" + key + "' must be a probability in [0, 1], got " + v);
    }

    /** torchvision's _check_input: v -> [max(0, 1 - v), 1 + v]; a pair is used as is; 0 or absent disables. */
    double[] jitter(String key, double center) {
      Object v = raw.get(key);
      if (v == null) {
        return null;
      }
      double[] r;
      if (v instanceof Number n) {
        if (n.doubleValue() < 0) {
          throw new ConfigError(at + ": '" + key + "' must be >= 0, got " + v);
        }
        r = new double[] {Math.max(0, center - n.doubleValue()), center + n.doubleValue()};
      } else {
        r = range(key, null);
      }
      return r[0] == center && r[1] == center ? null : r;
    }

    double[] hue() {
      Object v = raw.get("hue");
      if (v == null) {
        return null;
      }
      double[] r = v instanceof Number n ? new double[] {-n.doubleValue(), n.doubleValue()} : range("hue", null);
      if (r[0] < -0.5 || r[1] > 0.5 || r[0] > r[1]) {
        throw new ConfigError(at + ": 'hue' must lie in [-0.5, 0.5], got " + v);
      }
      return r[0] == 0 && r[1] == 0 ? null : r;
    }

    float[] floats(String key) {
      Object v = raw.get(key);
      if (v instanceof List<?> list && !list.isEmpty()) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
          if (!(list.get(i) instanceof Number n)) {
            throw new ConfigError(at + ": '" + key + "' must be a list of numbers, got " + v);
          }
          out[i] = n.floatValue();
        }
        return out;
      }
      throw new ConfigError(at + ": '" + key + "' must be a list of numbers, got " + v);
    }

    void bilinearOnly() {
      Object v = raw.get("interpolation");
      if (v != null && !(v.equals(2L) || "bilinear".equalsIgnoreCase(String.valueOf(v)) || "BILINEAR".equals(String.valueOf(v)))) {
        throw new ConfigError(at + ": only bilinear interpolation is available, got " + v);
      }
    }
  }
}
