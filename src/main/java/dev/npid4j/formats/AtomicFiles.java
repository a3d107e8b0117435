package dev.npid4j.formats;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Writes that never leave a half-written file behind: write a temp file in the same folder,
 * fsync it, rename it over the target, fsync the folder. A crash at any moment leaves either the
 * old or the new file.
 *
 * <p>The temp file's name carries 64 random bits and it is created with CREATE_NEW without
 * following links, so nobody can plant a link under the name beforehand to make npid4j write
 * through it; {@link #isOwnTempFile} recognises exactly these names, so that tidying a folder
 * (VISSL's default CHECKPOINT.DIR is ".") deletes npid4j's leftovers and nothing else.
 */
public final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String TEMP_MARK = ".npid4j-tmp-";
  private static final Pattern TEMP_NAME = Pattern.compile("\\..+" + Pattern.quote(TEMP_MARK) + "[0-9a-f]{16}");

  private AtomicFiles() {}

  public interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  public static void write(Path target, Writer writer) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = tempFor(target);
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        // writers close what they are given; the channel stays open for the fsync
        OutputStream out = new java.io.FilterOutputStream(Channels.newOutputStream(ch)) {
          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            this.out.write(b, off, len);
          }

          @Override
          public void close() throws IOException {
            flush();
          }
        };
        writer.writeTo(out);
        out.flush();
        ch.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsyncDirectory(dir);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  public static void writeString(Path target, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    write(target, out -> out.write(bytes));
  }

  /** Points the symbolic link {@code link} at {@code target} atomically (a new link renamed over the old). */
  public static void link(Path link, Path target) throws IOException {
    Path temp = tempFor(link);
    try {
      Files.createSymbolicLink(temp, target);
      Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Creates {@code dir} if needed and proves it takes a new file (created and removed with this
   * class's temp naming), so that a read-only, missing or mistyped folder is one clear line
   * before any work starts rather than an I/O error in the middle of it.
   *
   * @param what how the user named the folder, e.g. "config.CHECKPOINT.DIR=/runs/x"
   */
  public static void requireWritableDirectory(Path dir, String what) {
    try {
      Files.createDirectories(dir);
      Path probe = tempFor(dir.resolve("write-test"));
      Files.newByteChannel(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS).close();
      Files.delete(probe);
    } catch (IOException e) {
      throw new dev.npid4j.UserError(what + ": cannot write there (" + reason(e) + ")");
    }
  }

  /** An I/O failure in words (Java's own messages are often just the path). */
  public static String reason(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied: " + e.getMessage();
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException || e instanceof java.nio.file.NotDirectoryException) {
      return "a file is in the way of a folder: " + e.getMessage();
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or folder: " + e.getMessage();
    }
    if (e instanceof java.nio.file.FileSystemException f && "Not a directory".equals(f.getReason())) {
      return "a file is in the way of a folder: " + f.getFile();
    }
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason() + ": " + f.getFile();
    }
    return String.valueOf(e.getMessage());
  }

  /** Whether {@code file} is a temp file this class creates (left behind by a crash), and not a link. */
  public static boolean isOwnTempFile(Path file) {
    return TEMP_NAME.matcher(file.getFileName().toString()).matches()
        && (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(file) && isOwnLinkName(file));
  }

  private static boolean isOwnLinkName(Path file) {
    return file.getFileName().toString().startsWith(".checkpoint.torch" + TEMP_MARK);
  }

  private static Path tempFor(Path target) {
    byte[] r = new byte[8];
    RANDOM.nextBytes(r);
    return target.toAbsolutePath().resolveSibling("." + target.getFileName() + TEMP_MARK + HexFormat.of().formatHex(r));
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems cannot fsync a directory; the rename itself is still atomic
    }
  }
}
