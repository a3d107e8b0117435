package dev.npid4j.cli;

import dev.npid4j.config.RunConfig;
import dev.npid4j.distributed.CollectiveFailure;
import dev.npid4j.distributed.GlooCommunicator;
import dev.npid4j.distributed.Launch;
import dev.npid4j.distributed.LocalLauncher;
import dev.npid4j.distributed.Rendezvous;
import dev.npid4j.data.Datasets;
import dev.npid4j.engine.TrainSummary;
import dev.npid4j.engine.Trainer;
import dev.npid4j.torch.Devices;
import dev.npid4j.engine.TrainingFailure;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Trains NPID / NPID++ (VISSL's engine_name=train).", "",
        "Examples:",
        "  npid4j train config=quickstart/npid_fashion_mnist config.CHECKPOINT.DIR=runs/qs",
        "  npid4j train config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu \\",
        "      config.DISTRIBUTED.NUM_PROC_PER_NODE=1 config.DATA.TRAIN.DATA_SOURCES=[synthetic] \\",
        "      config.DATA.TRAIN.DATA_LIMIT=64",
        "",
        "Several processes (c10d Gloo): config.DISTRIBUTED.NUM_PROC_PER_NODE=P starts P ranks on",
        "this machine; on M machines add config.DISTRIBUTED.NUM_NODES=M node_id=I",
        "config.DISTRIBUTED.RUN_ID=<node 0 host>:<port> on each. torchrun's environment (RANK,",
        "WORLD_SIZE, MASTER_ADDR, MASTER_PORT) and SLURM's are understood too.",
        "",
        "The run directory (config.CHECKPOINT.DIR) receives train_config.yaml, metrics.jsonl,",
        "knn.json and model_phase*.torch checkpoints (rank 0 writes them)."})
final class TrainCommand implements Callable<Integer> {
  @Mixin
  ConfigArgs config;

  @Override
  public Integer call() {
    RunConfig cfg = RunConfig.fromArgs(config.args).checkedForTraining();
    Launch.Plan plan = Launch.plan(cfg.distributed(), System.getenv());
    if (plan instanceof Launch.Spawn spawn) {
      // what every rank would find wrong, said once before any rank starts
      if (cfg.machine().device().equals("gpu")) {
        Devices.forMachine("gpu", spawn.localRanks() - 1);
      }
      Datasets.checkPresent(cfg.train());
    }
    if (plan instanceof Launch.Spawn spawn) {
      List<String> args = new ArrayList<>();
      args.add("train");
      args.addAll(config.args);
      return new LocalLauncher(spawn, System.out).run(Main.class.getName(), args);
    }
    Rendezvous r = ((Launch.Worker) plan).rendezvous();
    if (r.worldSize() == 1) {
      TrainSummary s = new Trainer(cfg, System.out).run();
      return s.stoppedBySignal() ? s.stoppedExitCode() : 0;
    }
    return trainAsRank(cfg, r);
  }

  /** One rank: only rank 0 prints progress (the others report errors only), as VISSL logs on rank 0. */
  private static int trainAsRank(RunConfig cfg, Rendezvous r) {
    GlooCommunicator comm = GlooCommunicator.connect(r, cfg.machine().device().equals("gpu"));
    PrintStream out = r.rank() == 0 ? System.out : new PrintStream(OutputStream.nullOutputStream());
    TrainSummary s;
    try {
      s = new Trainer(cfg, out, comm, r.localWorldSize()).run();
    } catch (CollectiveFailure e) {
      // name who is missing when c10d can tell; the process group is not reused after this
      String lost = comm.diagnoseLostRanks(Duration.ofSeconds(3));
      throw new TrainingFailure(e.getMessage() + ". " + (lost.isEmpty() ? "Another rank died or stopped answering" : lost)
          + "; running the same command again on every node resumes from the last checkpoint");
    }
    comm.close();
    return s.stoppedBySignal() ? s.stoppedExitCode() : 0;
  }
}
