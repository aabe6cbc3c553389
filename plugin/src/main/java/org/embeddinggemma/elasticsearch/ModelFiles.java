package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.stream.Stream;

/**
 * A model's folder as last seen: whether it is there, and a snapshot of its files (names,
 * sizes, modification times) that changes when any of them is replaced, so that a model which
 * failed to load is tried again only when its files change.
 */
final class ModelFiles {

  /** How deep the snapshot looks: {@code onnx/model.onnx} lies one level down. */
  private static final int DEPTH = 3;

  private final Path directory;

  ModelFiles(Path directory) {
    this.directory = directory;
  }

  /** The model's folder. */
  Path directory() {
    return directory;
  }

  /** Whether the folder exists. */
  boolean installed() {
    return Files.isDirectory(directory);
  }

  /** Names, sizes and modification times of the files, one line each, in a stable order. */
  String snapshot() {
    StringBuilder files = new StringBuilder();
    try (Stream<Path> paths = Files.walk(directory, DEPTH)) {
      paths.sorted().forEach(path -> {
        try {
          BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
          files.append(directory.relativize(path)).append(' ').append(attributes.size()).append(' ')
              .append(attributes.lastModifiedTime().toMillis()).append('\n');
        } catch (IOException e) {
          files.append(directory.relativize(path)).append(" unreadable\n");
        }
      });
    } catch (IOException | RuntimeException e) {
      files.append("unlistable: ").append(e.getMessage());
    }
    return files.toString();
  }
}
