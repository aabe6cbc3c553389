package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtEnvironment;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * The environment made without a shutdown hook, in a JVM of its own (ONNX Runtime's environment is
 * one per process): it is the one {@link OrtEnvironment#getEnvironment()} returns afterwards, it
 * registers no hook, and a real graph runs on it.
 */
class OnnxEnvironmentWithoutShutdownHookTest {

  @Test
  void aFreshJvmRunsMiniLmOnTheEnvironmentAndHasNoHookMore() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command =
        List.of(
            java.toString(), "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), Probe.class.getName(), TestModels.miniLmGraph().toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(2, TimeUnit.MINUTES);
    assertEquals(0, process.exitValue(), output);
    assertEquals("same environment: true, shutdown hooks added: 0, dims: 384", output.lines().reduce((a, b) -> b).orElse(""), output);
  }

  /** Runs in the forked JVM: makes the environment first, before anything else touches ONNX Runtime. */
  static final class Probe {
    public static void main(String[] args) throws Exception {
      // Loading the native library may add ONNX Runtime's own hook that removes its extraction folder.
      Class.forName(OrtEnvironment.class.getName(), true, OrtEnvironment.class.getClassLoader());
      int hooksBefore = shutdownHooks();
      OrtEnvironment made = OnnxEnvironmentWithoutShutdownHook.create();
      boolean same = OrtEnvironment.getEnvironment() == made;
      int added = shutdownHooks() - hooksBefore;
      try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(Path.of(args[0]), PoolingStrategy.MEAN, 1)) {
        System.out.println("same environment: " + same + ", shutdown hooks added: " + added + ", dims: " + model.dims());
      }
    }

    private static int shutdownHooks() throws ReflectiveOperationException {
      Field hooks = Class.forName("java.lang.ApplicationShutdownHooks").getDeclaredField("hooks");
      hooks.setAccessible(true);
      return ((Map<?, ?>) hooks.get(null)).size();
    }
  }
}
