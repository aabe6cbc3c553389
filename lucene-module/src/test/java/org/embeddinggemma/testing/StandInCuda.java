package org.embeddinggemma.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in {@code libcudart.so}, built with gcc, that answers DJL's CUDA probes as a host with one
 * NVIDIA GPU (compute capability 9.0, CUDA 12.2) does, and creates a marker file when asked for its
 * GPUs. On its library path (LD_LIBRARY_PATH or {@code -Djna.library.path}) DJL takes the host for
 * a GPU host.
 */
public final class StandInCuda {

  private StandInCuda() {}

  /** Whether this machine can build it. */
  public static boolean buildable() {
    return Files.isExecutable(Path.of("/usr/bin/gcc"));
  }

  /**
   * Builds {@code libcudart.so} in {@code directory}.
   *
   * @param marker the file created when DJL asks for the GPU count
   * @return {@code directory}
   */
  public static Path build(Path directory, Path marker) throws IOException, InterruptedException {
    if (marker.toString().contains("\"") || marker.toString().contains("\\")) {
      throw new IllegalArgumentException("marker path must not hold quotes or backslashes: " + marker);
    }
    Path source = directory.resolve("cudart.c");
    Files.writeString(source, """
        #include <stddef.h>
        #include <stdio.h>
        int cudaGetDeviceCount(int *count) {
          FILE *marker = fopen("%s", "w");
          if (marker) fclose(marker);
          *count = 1;
          return 0;
        }
        int cudaRuntimeGetVersion(int *version) { *version = 12020; return 0; }
        int cudaDeviceGetAttribute(int *value, int attribute, int device) { *value = attribute == 75 ? 9 : 0; return 0; }
        const char *cudaGetErrorString(int error) { return "stand-in"; }
        int cudaGetDevice(int *device) { *device = 0; return 0; }
        int cudaSetDevice(int device) { return 0; }
        int cudaMemGetInfo(size_t *free, size_t *total) { *free = 1UL << 34; *total = 1UL << 34; return 0; }
        """.formatted(marker));
    Process gcc =
        new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", directory.resolve("libcudart.so").toString(), source.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!gcc.waitFor(1, TimeUnit.MINUTES) || gcc.exitValue() != 0) {
      throw new IllegalStateException("gcc cannot build the stand-in libcudart.so: " + output);
    }
    return directory;
  }
}
