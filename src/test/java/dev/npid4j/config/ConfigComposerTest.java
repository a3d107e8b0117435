package dev.npid4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.npid4j.loss.NceLossParams;
import dev.npid4j.torch.CpuFeatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigComposerTest {
  private static RunConfig run(String... args) {
    return RunConfig.fromArgs(List.of(args));
  }

  @Test
  void indexListsExactlyTheBundledFiles() throws IOException {
    Path root = Path.of("src/main/resources/npid4j/configs/config");
    List<String> onDisk = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(p -> p.toString().endsWith(".yaml"))
          .forEach(p -> onDisk.add(root.relativize(p).toString().replace(".yaml", "")));
    }
    assertThat(ConfigComposer.bundledConfigs()).containsExactlyInAnyOrderElementsOf(onDisk);
    for (String name : onDisk) {
      ConfigComposer.compose(List.of("config=" + name)); // every bundled file composes
    }
  }

  @Test
  void npid8gpuHasVisslValues() {
    RunConfig c = run("config=pretrain/npid/npid_8gpu_resnet");
    assertThat(c.loss().numNegatives()).isEqualTo(4096);
    assertThat(c.loss().temperature()).isEqualTo(0.07);
    assertThat(c.bank().momentum()).isEqualTo(0.5);
    assertThat(c.loss().lossType()).isEqualTo(NceLossParams.LossType.NCE);
    assertThat(c.loss().normConstant()).isEqualTo(-1.0);
    assertThat(c.model().trunk().depth()).isEqualTo(50);
    assertThat(c.model().heads().get(0).dims()).containsExactly(2048, 128);
    assertThat(c.optimizer().numEpochs()).isEqualTo(200);
    assertThat(c.optimizer().weightDecay()).isEqualTo(1e-4);
    assertThat(c.optimizer().regularizeBn()).isFalse();
    assertThat(c.train().batchSize()).isEqualTo(32);
    assertThat(c.worldSize()).isEqualTo(8);
    assertThat(c.checkpoint().frequency()).isEqualTo(10);
    // auto-scaled: 0.03 x (32 x 8) / 256
    assertThat(c.tree().getList("config.OPTIMIZER.param_schedulers.lr.values")).containsExactly(0.03, 0.003, 0.0003);
    assertThat(c.train().labelType()).isEqualTo("sample_index");
  }

  @Test
  void npidPlusPlusScalesTheCosineToTheGlobalBatch() {
    RunConfig c = run("config=pretrain/npid/npid++_4nodes_resnet");
    assertThat(c.loss().numNegatives()).isEqualTo(32000);
    assertThat(c.optimizer().numEpochs()).isEqualTo(800);
    assertThat(c.worldSize()).isEqualTo(32);
    assertThat(c.tree().getDouble("config.OPTIMIZER.param_schedulers.lr.start_value")).isEqualTo(0.12);
    assertThat(c.tree().getDouble("config.OPTIMIZER.param_schedulers.lr.end_value")).isCloseTo(0.00012, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void autoScalingFollowsTheConfiguredBatchAndRoundsLikeVissl() {
    RunConfig c = run("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=2");
    // 0.03 x 64 / 256 = 0.0075; gamma = round(0.003 / 0.03, 6) = 0.1
    assertThat(c.tree().getList("config.OPTIMIZER.param_schedulers.lr.values")).containsExactly(0.0075, 0.00075, 0.000075);
    RunConfig sqrt = run("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=2",
        "config.OPTIMIZER.param_schedulers.lr.auto_lr_scaling.scaling_type=sqrt");
    assertThat((Double) sqrt.tree().getList("config.OPTIMIZER.param_schedulers.lr.values").get(0)).isEqualTo(0.015);
  }

  @Test
  void overridesParseHydraValues() {
    RunConfig c = run("config=quickstart/npid_fashion_mnist",
        "config.OPTIMIZER.num_epochs=7",
        "config.LOSS.nce_loss_with_memory.temperature=0.2",
        "config.OPTIMIZER.nesterov=True",
        "config.LOSS.nce_loss_with_memory.loss_weights=[0.5,0.5]",
        "config.CHECKPOINT.DIR='my run'",
        "config.DATA.TRAIN.DATA_PATHS=[/data/fmnist]",
        "config.OPTIMIZER.weight_decay=1e-4",
        "config.LOSS.nce_loss_with_memory.norm_constant=2000");
    assertThat(c.optimizer().numEpochs()).isEqualTo(7);
    assertThat(c.loss().temperature()).isEqualTo(0.2);
    assertThat(c.optimizer().nesterov()).isTrue();
    assertThat(c.loss().lossWeights()).containsExactly(0.5, 0.5);
    assertThat(c.checkpoint().dir()).isEqualTo("my run");
    assertThat(c.train().dataPaths()).containsExactly("/data/fmnist");
    assertThat(c.optimizer().weightDecay()).isEqualTo(1e-4);
    assertThat(c.loss().normConstant()).isEqualTo(2000.0); // an int where a float is expected is promoted
  }

  @Test
  void plusAddsNewKeysAndNullIsAValue() {
    ConfigTree t = ConfigComposer.compose(List.of("config=quickstart/npid_fashion_mnist", "+config.MY.NEW_KEY=3",
        "config.DISTRIBUTED.RUN_ID=null")).tree();
    assertThat(t.getLong("config.MY.NEW_KEY")).isEqualTo(3);
    assertThat(t.get("config.DISTRIBUTED.RUN_ID")).isNull();
    assertThatThrownBy(() -> ConfigComposer.compose(List.of("config=quickstart/npid_fashion_mnist", "+config.SEED_VALUE=1")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("already exists");
  }

  @Test
  void misspeltKeyNamesTheClosestValidOne() {
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.LOSS.nce_loss_with_memory.temprature=0.1"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("unknown config key 'config.LOSS.nce_loss_with_memory.temprature'")
        .hasMessageContaining("did you mean 'config.LOSS.nce_loss_with_memory.temperature'");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMZER.num_epochs=3"))
        .hasMessageContaining("did you mean 'config.OPTIMIZER.num_epochs'");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.temperature=3"))
        .hasMessageContaining("did you mean 'config.LOSS.nce_loss_with_memory.temperature'");
  }

  @Test
  void mistypedValuesAreRejectedWithTheKey() {
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMIZER.num_epochs=ten"))
        .isInstanceOf(ConfigError.class).hasMessageContaining("config.OPTIMIZER.num_epochs expects an integer, got 'ten'");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMIZER.num_epochs=2.5"))
        .hasMessageContaining("expects an integer");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMIZER.nesterov=maybe"))
        .hasMessageContaining("expects true or false");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.DATA.TRAIN.DATA_PATHS=/x"))
        .hasMessageContaining("expects a list");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMIZER.num_epochs=0"))
        .hasMessageContaining("num_epochs must be >= 1");
  }

  @Test
  void sweepsAndStrayArgumentsAreExplained() {
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.OPTIMIZER.num_epochs=1,2"))
        .hasMessageContaining("sweep");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "epochs"))
        .hasMessageContaining("cannot read argument 'epochs'");
    assertThatThrownBy(() -> run("config.OPTIMIZER.num_epochs=1")).hasMessageContaining("no experiment given");
    assertThatThrownBy(() -> run("config=pretrain/npid/npid_8gpu")).hasMessageContaining("did you mean 'pretrain/npid/npid_8gpu_resnet'");
  }

  @Test
  void addingAGroupFileMergesItAfterTheExperiment() {
    RunConfig c = run("config=pretrain/npid/npid_8gpu_resnet", "+config/pretrain/npid/models=resnet50_w2");
    assertThat(c.model().trunk().widthMultiplier()).isEqualTo(2);
    assertThat(c.model().heads().get(0).dims()).containsExactly(4096, 128);
    assertThat(c.model().embeddingDim()).isEqualTo(128);
  }

  @Test
  void yamlFilesFromDiskAndTheirErrors(@TempDir Path dir) throws IOException {
    Path good = dir.resolve("mine.yaml");
    Files.writeString(good, "# @package _global_\nconfig:\n  SEED_VALUE: 5\n  LOSS:\n    nce_loss_with_memory:\n      loss_type: cross_entropy\n");
    RunConfig c = run("config=" + good);
    assertThat(c.seed()).isEqualTo(5);
    assertThat(c.loss().lossType()).isEqualTo(NceLossParams.LossType.CROSS_ENTROPY);
    Path typo = dir.resolve("typo.yaml");
    Files.writeString(typo, "config:\n  OPTIMIZER:\n    num_epoch: 3\n");
    assertThatThrownBy(() -> run("config=" + typo)).hasMessageContaining(typo.toString())
        .hasMessageContaining("did you mean 'config.OPTIMIZER.num_epochs'");
    Path flat = dir.resolve("flat.yaml");
    Files.writeString(flat, "SEED_VALUE: 3\n");
    assertThatThrownBy(() -> run("config=" + flat)).hasMessageContaining("top-level key 'config:'");
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "config: [unclosed\n");
    assertThatThrownBy(() -> run("config=" + broken)).hasMessageContaining("not valid YAML");
  }

  @Test
  void badTransformsAndHeadsAreCaughtWithTheirPlace() {
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.MODEL.HEAD.PARAMS=[[mlp,{dims:[128,128],use_relus:true}]]"))
        .hasMessageContaining("unknown mlp parameter 'use_relus'").hasMessageContaining("use_relu");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.MODEL.TRUNK.RESNETS.DEPTH=20"))
        .hasMessageContaining("depth must be one of 18, 34, 50, 101, 152");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.LOSS.nce_loss_with_memory.loss_type=infonce"))
        .hasMessageContaining("loss_type must be nce or cross_entropy");
  }

  @Test
  void nativeBf16OnlyKeepsAutocastOffWhereTheCpuWouldEmulateBfloat16() {
    String amp = "config.MODEL.AMP_PARAMS.USE_AMP=true";
    ModelConfig gated = run("config=quickstart/npid_fashion_mnist", amp, "config.MODEL.AMP_PARAMS.NATIVE_BF16_ONLY=true").model();
    assertThat(gated.bf16Autocast()).isEqualTo(CpuFeatures.nativeBf16());
    assertThat(gated.ampOffWithoutNativeBf16()).isEqualTo(!CpuFeatures.nativeBf16());
    // without the key USE_AMP is obeyed on any CPU (VISSL's meaning)
    ModelConfig plain = run("config=quickstart/npid_fashion_mnist", amp, "config.MODEL.AMP_PARAMS.NATIVE_BF16_ONLY=false").model();
    assertThat(plain.bf16Autocast()).isTrue();
    assertThat(plain.ampOffWithoutNativeBf16()).isFalse();
    ModelConfig off = run("config=quickstart/npid_fashion_mnist", "config.MODEL.AMP_PARAMS.USE_AMP=false").model();
    assertThat(off.bf16Autocast()).isFalse();
    assertThat(off.ampOffWithoutNativeBf16()).isFalse();
  }

  @Test
  void mixedPrecisionIsBfloat16AutocastOnly() {
    assertThat(run("config=pretrain/npid/npid_8gpu_resnet").model().bf16Autocast()).isFalse();
    assertThat(run("config=pretrain/npid/npid_8gpu_resnet", "config.MODEL.AMP_PARAMS.USE_AMP=true").model().bf16Autocast()).isTrue();
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.MODEL.AMP_PARAMS.USE_AMP=true",
        "config.MODEL.AMP_PARAMS.AMP_TYPE=apex")).isInstanceOf(ConfigError.class).hasMessageContaining("AMP_TYPE=pytorch");
    assertThatThrownBy(() -> run("config=quickstart/npid_fashion_mnist", "config.MODEL.AMP_PARAMS.USE_AMP=true",
        "config.MODEL.AMP_PARAMS.AMP_DTYPE=float16")).isInstanceOf(ConfigError.class).hasMessageContaining("use bfloat16");
  }

  @Test
  void numTrainSamplesIsAutoFilled() {
    RunConfig c = run("config=quickstart/npid_fashion_mnist");
    assertThat(c.tree().getLong("config.LOSS.nce_loss_with_memory.num_train_samples")).isEqualTo(-1);
    assertThat(c.resolvedYaml(60000)).contains("num_train_samples: 60000");
    // the run config itself is never written into: the resolved value lives in the YAML alone
    assertThat(c.tree().getLong("config.LOSS.nce_loss_with_memory.num_train_samples")).isEqualTo(-1);
  }

  /** VISSL's NPID page: "adjust the learning rate following ImageNet in 1-Hour" when the number of GPUs changes. */
  @Test
  void lrAutoScalingSaysWhatItDidAndWarnsWhenOff() {
    RunConfig eight = run("config=pretrain/npid/npid_8gpu_resnet");
    assertThat(eight.lrScalingNote()).isNull(); // 32 x 8 = 256, the reference batch: nothing to say
    RunConfig one = run("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=1");
    assertThat(one.lrScalingNote()).contains("base LR 0.03 at batch 256 -> 0.00375 at the global batch 32")
        .contains("32 per rank x 1 node(s) x 1 rank(s) per node");
    RunConfig off = run("config=pretrain/npid/npid_8gpu_resnet", "config.DISTRIBUTED.NUM_PROC_PER_NODE=1",
        "config.OPTIMIZER.param_schedulers.lr.auto_lr_scaling.auto_scale=false");
    assertThat(off.lrScalingNote()).startsWith("warning: the global batch is 32").contains("where the experiment has 256")
        .contains("auto_scale=true");
    assertThat(run("config=quickstart/npid_fashion_mnist").lrScalingNote()).isNull();
  }

  @Test
  void trunkParamsIsVisslsOtherSpellingOfTheTrunkKeys(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    RunConfig cli = run("config=pretrain/npid/npid_8gpu_resnet", "config.MODEL.TRUNK.TRUNK_PARAMS.RESNETS.DEPTH=101");
    assertThat(cli.model().trunk().depth()).isEqualTo(101);
    assertThat(cli.resolvedYaml(10)).startsWith("# VISSL spelling given: config.MODEL.TRUNK.TRUNK_PARAMS.RESNETS.DEPTH"
        + " -> config.MODEL.TRUNK.RESNETS.DEPTH\n").contains("DEPTH: 101").doesNotContain("TRUNK_PARAMS:");
    Path yaml = dir.resolve("vissl.yaml");
    Files.writeString(yaml, "# @package _global_\nconfig:\n  MODEL:\n    TRUNK:\n      NAME: resnet\n      TRUNK_PARAMS:\n"
        + "        RESNETS:\n          DEPTH: 34\n");
    RunConfig file = run("config=" + yaml);
    assertThat(file.model().trunk().depth()).isEqualTo(34);
    assertThat(file.model().trunk().stem()).isEqualTo("imagenet"); // the other RESNETS keys keep their defaults
    assertThat(file.resolvedYaml(10)).contains("TRUNK_PARAMS.RESNETS");
  }
}
