package dev.npid4j.eval;

/** Weighted kNN accuracy in percent over {@code queries} test items. */
public record KnnResult(double top1, double top5, int k, double sigma, int queries) {}
