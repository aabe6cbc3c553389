package org.embeddinggemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.embeddinggemma.engine.NativeRuntime;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/embed} as a user runs it from a built checkout, in a separate JVM it picks itself. */
class EmbedScriptIT {

  @Test
  void scriptEmbedsStdinWithThePackagedJar(@TempDir Path home, @TempDir Path temp) throws Exception {
    Path script = Path.of(System.getProperty("repository.directory")).resolve("bin/embed");
    ProcessBuilder builder =
        new ProcessBuilder(script.toString(), "--model", TestModels.gemmaShaped(TestModels.Layout.EXPORT).toString(), "--dims", "128", "--int8", "--title", "Vaccines")
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    // ONNX Runtime's telemetry would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid.
    builder.environment().put("HOME", home.toString());
    builder.environment().remove("XDG_CACHE_HOME");
    builder.environment().remove("ORT_DISABLE_TELEMETRY");
    builder.environment().put("EMBED_JAVA_OPTS", "-Djava.io.tmpdir=" + temp);
    Process process = builder.start();
    process.getOutputStream().write("Vaccines train the immune system.\n".getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().close();
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(2, TimeUnit.MINUTES));
    assertEquals(0, process.exitValue());
    List<String> lines = stdout.lines().toList();
    assertEquals(1, lines.size(), stdout);
    JsonObject result = JsonParser.parseString(lines.get(0)).getAsJsonObject();
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
}
