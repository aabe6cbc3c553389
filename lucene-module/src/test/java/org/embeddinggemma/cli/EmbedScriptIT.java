package org.embeddinggemma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/** {@code bin/embed} as a user runs it from a built checkout, in a separate JVM it picks itself. */
class EmbedScriptIT {

  @Test
  void scriptEmbedsStdinWithThePackagedJar() throws Exception {
    Path script = Path.of(System.getProperty("repository.directory")).resolve("bin/embed");
    Process process =
        new ProcessBuilder(script.toString(), "--model", TestModels.gemmaShaped(TestModels.Layout.EXPORT).toString(), "--dims", "128", "--int8", "--title", "Vaccines")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
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
  }
}
