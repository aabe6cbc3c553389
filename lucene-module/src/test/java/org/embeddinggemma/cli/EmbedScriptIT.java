package org.embeddinggemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.embeddinggemma.engine.NativeRuntime;
import org.embeddinggemma.testing.StandInCuda;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/embed} as a user runs it from a built checkout, in a separate JVM it picks itself. */
class EmbedScriptIT {

  @Test
  void scriptEmbedsStdinWithThePackagedJar(@TempDir Path home, @TempDir Path temp) throws Exception {
    ProcessBuilder builder = embed(home, temp, TestModels.gemmaShaped(TestModels.Layout.EXPORT), "--dims", "128", "--int8", "--title", "Vaccines");
    JsonObject result = run(builder, "Vaccines train the immune system.");
    assertEquals(128, result.getAsJsonArray("vector").size());
    // <bos> + "title: Vaccines | text: Vaccines train the immune system." + <eos>
    assertTrue(result.get("tokens").getAsInt() > 10, result.toString());
    try (Stream<Path> written = Files.walk(home)) {
      assertEquals(List.of(home), written.toList(), "nothing written in the home directory");
    }
    try (Stream<Path> extracted = Files.list(temp)) {
      assertEquals(
          List.of(NativeRuntime.NATIVE_FOLDER + "-" + System.getProperty("user.name")),
          extracted.map(path -> path.getFileName().toString()).toList(),
          "native libraries only in the engine's reused folder");
    }
  }

  /**
   * A host where DJL detects an NVIDIA GPU with CUDA 12.2: DJL tokenizers would look for its CUDA
   * build, which is not in the jar, and try to download it. A stand-in {@code libcudart.so} on the
   * library path answers DJL's probes as a GPU host's does, and records that it was asked.
   */
  @Test
  void onAGpuHostTheBundledCpuTokenizerIsUsedWithoutNetwork(@TempDir Path home, @TempDir Path temp, @TempDir Path cuda) throws Exception {
    assumeTrue(StandInCuda.buildable(), "gcc builds the stand-in CUDA runtime");
    StandInCuda.build(cuda, cuda.resolve("probed"));
    ProcessBuilder builder = embed(home, temp, TestModels.miniLm(), "--dims", "8");
    builder.environment().put("LD_LIBRARY_PATH", cuda.toString());

    assertEquals(8, run(builder, "Tokenised on a GPU host.").getAsJsonArray("vector").size());
    assertTrue(Files.exists(cuda.resolve("probed")), "DJL asked the stand-in CUDA runtime for its GPUs");
    try (Stream<Path> written = Files.walk(temp)) {
      List<String> cudaBuilds = written.map(Path::toString).filter(path -> path.contains("cu122")).toList();
      assertEquals(List.of(), cudaBuilds, "no CUDA build of the tokenizers library looked for");
    }
  }

  private static ProcessBuilder embed(Path home, Path temp, Path model, String... options) {
    Path script = Path.of(System.getProperty("repository.directory")).resolve("bin/embed");
    List<String> command = new ArrayList<>(List.of(script.toString(), "--model", model.toString()));
    command.addAll(List.of(options));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    // ONNX Runtime's telemetry would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid.
    builder.environment().put("HOME", home.toString());
    builder.environment().remove("XDG_CACHE_HOME");
    builder.environment().remove("ORT_DISABLE_TELEMETRY");
    builder.environment().put("EMBED_JAVA_OPTS", "-Djava.io.tmpdir=" + temp);
    return builder;
  }

  private static JsonObject run(ProcessBuilder builder, String text) throws Exception {
    Process process = builder.start();
    process.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().close();
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(2, TimeUnit.MINUTES));
    assertEquals(0, process.exitValue());
    List<String> lines = stdout.lines().toList();
    assertEquals(1, lines.size(), stdout);
    return JsonParser.parseString(lines.get(0)).getAsJsonObject();
  }
}
