package dev.npid4j.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Composes a configuration the way VISSL's launcher does with Hydra: the bundled defaults, then
 * the experiment named by {@code config=NAME}, then {@code +config/<group>=<file>} additions in
 * command-line order, then the value overrides {@code config.A.B=value}, {@code +config.A.NEW=value}
 * (add a key) and {@code ++config.A.B=value} (add or replace), and {@code node_id=}/{@code engine_name=}.
 */
public final class ConfigComposer {
  static final String RESOURCE_ROOT = "/npid4j/";
  static final String CONFIG_ROOT = RESOURCE_ROOT + "configs/config/";
  private static final Pattern OVERRIDE = Pattern.compile("^(\\+\\+|\\+)?([A-Za-z_][A-Za-z0-9_.\\-+]*)=(.*)$", Pattern.DOTALL);
  private static final Pattern ADD_FILE = Pattern.compile("^\\+config/([A-Za-z0-9_./\\-+]+)=(.+)$");

  private ConfigComposer() {}

  /** The result of composition: the tree and where the experiment came from. */
  public record Composed(ConfigTree tree, String experiment) {
    /** One integer key of the composed, not yet validated config (tools that adjust a config before validating it). */
    public long integer(String key) {
      return tree.getLong(key);
    }
  }

  public static Composed compose(List<String> args) {
    String main = null;
    List<String[]> addFiles = new ArrayList<>();
    List<String> overrides = new ArrayList<>();
    for (String arg : args) {
      Matcher add = ADD_FILE.matcher(arg);
      if (arg.startsWith("config=")) {
        if (main != null) {
          throw new ConfigError("config= given twice ('" + main + "' and '" + arg.substring(7) + "'); add files with +config/<group>=<file>");
        }
        main = arg.substring("config=".length());
      } else if (add.matches()) {
        addFiles.add(new String[] {add.group(1), add.group(2)});
      } else if (OVERRIDE.matcher(arg).matches()) {
        overrides.add(arg);
      } else {
        throw new ConfigError("cannot read argument '" + arg + "': expected config=NAME, config.A.B=VALUE,"
            + " +config.A.NEW=VALUE or +config/<group>=<file>");
      }
    }
    if (main == null || main.isBlank()) {
      throw new ConfigError("no experiment given: pass config=NAME, e.g. config=quickstart/npid_fashion_mnist"
          + " (bundled: " + String.join(", ", bundledConfigs()) + ") or config=path/to/file.yaml");
    }
    ConfigTree tree = defaults();
    tree.merge(VisslSpellings.canonical(readExperiment(main), tree, "config=" + main), "config=" + main);
    for (String[] f : addFiles) {
      String name = f[0] + "/" + f[1];
      tree.merge(VisslSpellings.canonical(readExperiment(name), tree, name), "+config/" + f[0] + "=" + f[1]);
    }
    tree.noteExperimentBatch(LrAutoScaling.globalBatch(tree));
    for (String o : overrides) {
      apply(tree, o);
    }
    if (tree.getLong("VERSION") != 1) {
      throw new ConfigError("VERSION must be 1, got " + tree.get("VERSION"));
    }
    return new Composed(tree, main);
  }

  /** Applies one {@code [+|++]key=value} override. */
  public static void apply(ConfigTree tree, String override) {
    Matcher m = OVERRIDE.matcher(override);
    if (!m.matches()) {
      throw new ConfigError("cannot read override '" + override + "'");
    }
    String prefix = m.group(1) == null ? "" : m.group(1);
    String key = VisslSpellings.canonicalKey(m.group(2), tree);
    Object value;
    try {
      value = HydraValue.parse(m.group(3));
    } catch (IllegalArgumentException e) {
      throw new ConfigError("override " + key + ": " + e.getMessage());
    }
    if (!key.equals("config") && !key.startsWith("config.") && !tree.has(key)) {
      throw new ConfigError("unknown top-level key '" + key + "' in '" + override
          + "': config values are set as config.A.B=VALUE; top-level keys are node_id and engine_name");
    }
    boolean exists = tree.has(key);
    if (prefix.equals("+") && exists) {
      throw new ConfigError("'" + override + "': key " + key + " already exists; set it without the '+'");
    }
    tree.set(key, value, !prefix.isEmpty(), "override " + override);
  }

  public static ConfigTree defaults() {
    return new ConfigTree(YamlValues.normaliseMap(parseYaml(resourceText(RESOURCE_ROOT + "defaults.yaml"), "defaults.yaml")));
  }

  /** Bundled experiment names (without .yaml), as listed in the resource index. */
  public static List<String> bundledConfigs() {
    return resourceText(RESOURCE_ROOT + "configs/index.txt").lines().map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
  }

  private static final java.util.Set<String> RESOLVED_TOP_LEVEL = java.util.Set.of("VERSION", "node_id", "engine_name");

  static Map<String, Object> readExperiment(String name) {
    String text;
    String source;
    Path file = Path.of(name);
    if (Files.isRegularFile(file)) {
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new ConfigError("cannot read config file " + file + ": " + e.getMessage());
      }
      source = file.toString();
    } else {
      String bundled = name.endsWith(".yaml") ? name : name + ".yaml";
      InputStream in = ConfigComposer.class.getResourceAsStream(CONFIG_ROOT + bundled);
      if (in == null) {
        String hint = Keys.nearest(name.replaceAll("\\.yaml$", ""), bundledConfigs());
        throw new ConfigError("config '" + name + "' not found: it is neither a file nor a bundled config"
            + (hint != null ? "; did you mean '" + hint + "'?" : ""));
      }
      try (in) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      source = bundled;
    }
    Map<String, Object> doc = parseYaml(text, source);
    // A resolved train_config.yaml also carries VISSL's other top-level keys; it is a valid experiment too.
    boolean onlyKnownTopLevel = doc.keySet().stream().allMatch(k -> k.equals("config") || RESOLVED_TOP_LEVEL.contains(k));
    if (!doc.containsKey("config") || !onlyKnownTopLevel || !(doc.get("config") instanceof Map)) {
      throw new ConfigError(source + ": an experiment file must have exactly one top-level key 'config:'"
          + " (VISSL layout, with '# @package _global_'), found " + doc.keySet());
    }
    return doc;
  }

  static Map<String, Object> parseYaml(String text, String source) {
    Object doc;
    try {
      LoaderOptions limits = new LoaderOptions();
      // configs have no use for many aliases; each one is copied when the tree is normalised
      limits.setMaxAliasesForCollections(20);
      limits.setAllowRecursiveKeys(false);
      doc = new Yaml(new SafeConstructor(limits)).load(text);
    } catch (YAMLException e) {
      throw new ConfigError(source + " is not valid YAML: " + e.getMessage().replace('\n', ' '));
    } catch (StackOverflowError e) {
      throw new ConfigError(source + " is nested too deeply to be a config");
    }
    if (doc == null) {
      return new java.util.LinkedHashMap<>();
    }
    if (!(doc instanceof Map<?, ?> m)) {
      throw new ConfigError(source + " must hold a YAML map at the top level");
    }
    return YamlValues.normaliseDocument(m, source);
  }

  private static String resourceText(String path) {
    try (InputStream in = ConfigComposer.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing bundled resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the tree as YAML (the resolved train_config.yaml). */
  public static String toYaml(ConfigTree tree) {
    org.yaml.snakeyaml.DumperOptions o = new org.yaml.snakeyaml.DumperOptions();
    o.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
    o.setIndent(2);
    o.setWidth(120);
    return new Yaml(o).dump(tree.root());
  }
}
