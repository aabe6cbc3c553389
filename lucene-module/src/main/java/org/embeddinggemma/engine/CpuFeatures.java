package org.embeddinggemma.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The x86 CPU flags that decide which kernel ONNX Runtime's integer matrix products run on, read
 * from {@code /proc/cpuinfo}. ONNX Runtime picks its kernels from CPUID itself and says nothing
 * about it; these flags let an operator see what to expect from a W8A8 graph on this machine.
 *
 * @param flags the flags among {@link #INT8_FLAGS} the CPU has, in that order
 * @param known whether the flags could be read at all (not on other systems, or where reading is
 *     not allowed)
 */
public record CpuFeatures(List<String> flags, boolean known) {

  /** The flags that matter for int8 matrix products, fastest first. */
  public static final List<String> INT8_FLAGS = List.of("amx_int8", "avx512_vnni", "avx_vnni", "avx512bw", "avx2");

  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  /** The flags of the CPU this process runs on; {@code known} is false where they cannot be read. */
  public static CpuFeatures detect() {
    try {
      for (String line : Files.readAllLines(CPUINFO)) {
        if (line.startsWith("flags")) {
          Set<String> all = Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
          List<String> flags = new ArrayList<>();
          for (String flag : INT8_FLAGS) {
            if (all.contains(flag)) {
              flags.add(flag);
            }
          }
          return new CpuFeatures(List.copyOf(flags), true);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux on x86, or the host does not let this code read the file: unknown, not an error.
    }
    return new CpuFeatures(List.of(), false);
  }

  /**
   * The kernel ONNX Runtime (MLAS) multiplies uint8 activations by int8 weights with on this CPU,
   * as its dispatch chooses from these flags.
   */
  public String int8Kernel() {
    if (!known) {
      return "unknown (CPU flags not readable)";
    }
    if (flags.contains("amx_int8")) {
      return "AMX (amx_int8)";
    }
    if (flags.contains("avx512_vnni")) {
      return "AVX-512 VNNI (avx512_vnni)";
    }
    if (flags.contains("avx_vnni")) {
      return "AVX-VNNI (avx_vnni)";
    }
    if (flags.contains("avx512bw")) {
      return "AVX-512 without VNNI (avx512bw)";
    }
    if (flags.contains("avx2")) {
      return "AVX2 without VNNI (avx2)";
    }
    return "generic (no AVX2)";
  }

  /** One line for logs and tools: the flags and the int8 kernel. */
  public String describe() {
    return (known ? "flags " + (flags.isEmpty() ? "none of " + INT8_FLAGS : String.join(" ", flags)) : "flags unknown")
        + "; int8 matrix products on " + int8Kernel();
  }
}
