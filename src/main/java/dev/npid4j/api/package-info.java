/**
 * npid4j as a library: train NPID models, embed images and search neighbours from a JVM program,
 * without Python.
 *
 * <ul>
 *   <li>{@link dev.npid4j.api.Training}: a training run configured like VISSL (a bundled config or
 *       a YAML file, and overrides), with your own listeners;
 *   <li>{@link dev.npid4j.api.Embedder}: embeddings of images from an npid4j checkpoint, a VISSL
 *       checkpoint or a torchvision state dict;
 *   <li>{@link dev.npid4j.api.NeighborIndex}: cosine nearest neighbours and NPID's weighted vote
 *       over embeddings, saved and loaded as a file.
 * </ul>
 *
 * <p>User errors are {@link dev.npid4j.api.Npid4jException}s with a one-line message; nothing in
 * this package prints or exits. libtorch's native settings (OpenMP's wait policy, glibc's
 * allocator) are read when the native libraries load: start the JVM with the environment
 * {@code bin/native-env.sh} exports for the command line's speed, or take the one-line note npid4j
 * prints on first use when they are missing.
 */
package dev.npid4j.api;
