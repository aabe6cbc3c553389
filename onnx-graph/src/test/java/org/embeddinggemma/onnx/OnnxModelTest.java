package org.embeddinggemma.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading what {@link OnnxGraphWriter} writes, and rewriting it with {@link OnnxRewrite}. */
class OnnxModelTest {

  @TempDir Path dir;

  private Path written() {
    Path graph = dir.resolve("model.onnx");
    float[] large = new float[600];
    for (int i = 0; i < large.length; i++) {
      large[i] = i * 0.5f;
    }
    new OnnxGraphWriter()
        .input("x", OnnxGraphWriter.FLOAT, "batch", 20L)
        .output("y", OnnxGraphWriter.FLOAT, "batch", 30L)
        .floats("w", large, 20, 30)
        .scalar("two", 2f)
        .node("MatMul", List.of("x", "w"), List.of("xw"))
        .node("Mul", List.of("xw", "two"), List.of("y"))
        .write(graph, 1024);
    return graph;
  }

  @Test
  void readsNodesInitializersAndWhereTheirValuesAre() {
    OnnxModel model = OnnxModel.read(written());
    assertEquals(List.of("MatMul", "Mul"), model.nodes().stream().map(OnnxModel.Node::opType).toList());
    assertEquals(List.of("x", "w"), model.nodes().get(0).inputs());
    assertEquals(List.of("xw"), model.nodes().get(0).outputs());
    assertEquals("", model.nodes().get(0).domain());
    assertEquals(17, model.opset(""));
    assertEquals(0, model.opset("com.microsoft"));

    OnnxModel.Tensor weight = model.initializers().get("w");
    assertArrayEquals(new long[] {20, 30}, weight.dims());
    assertEquals(OnnxModel.FLOAT, weight.dataType());
    assertEquals(dir.resolve("model.onnx_data").toAbsolutePath(), weight.location(), "600 floats are over the 1024-byte threshold");
    assertEquals(299.5f, weight.floats()[599]);
    OnnxModel.Tensor two = model.initializers().get("two");
    assertNull(two.location(), "a scalar stays inside the graph");
    assertArrayEquals(new float[] {2f}, two.floats());
  }

  @Test
  void rewriteCopiesWhatDidNotChangeAndIsDeterministic() throws IOException {
    OnnxModel model = OnnxModel.read(written());
    OnnxRewrite rewrite = model.rewrite();
    rewrite.nodes().set(1, OnnxModel.Node.of("add", "", "Add", List.of("xw", "three"), List.of("y")));
    rewrite.floats("three", new long[] {}, 3f).dropInitializer("two").metadata("purpose", "test").opset("com.microsoft", 1);
    Path first = Files.createDirectories(dir.resolve("a")).resolve("first.onnx");
    Path second = Files.createDirectories(dir.resolve("b")).resolve("first.onnx");
    rewrite.write(first);
    rewrite.write(second);
    assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "the same rewrite gives the same bytes");
    assertArrayEquals(Files.readAllBytes(first.resolveSibling("first.onnx_data")), Files.readAllBytes(second.resolveSibling("first.onnx_data")));

    OnnxModel again = OnnxModel.read(first);
    assertEquals(List.of("MatMul", "Add"), again.nodes().stream().map(OnnxModel.Node::opType).toList());
    assertArrayEquals(model.initializers().get("w").floats(), again.initializers().get("w").floats());
    assertEquals(first.resolveSibling("first.onnx_data").toAbsolutePath(), again.initializers().get("w").location(), "its own data file");
    assertFalse(again.initializers().containsKey("two"));
    assertArrayEquals(new float[] {3f}, again.initializers().get("three").floats());
    assertEquals("test", again.metadata().get("purpose"));
    assertEquals(1, again.opset("com.microsoft"));
    assertFalse(Files.exists(dir.resolve("a/first.onnx.partial")), "no partial file is left");
  }

  @Test
  void besideSourceKeepsPointingAtTheSourceWeights() {
    OnnxModel model = OnnxModel.read(written());
    Path variant = dir.resolve("variant.onnx");
    model.rewrite().output("xw", OnnxModel.FLOAT).writeBesideSource(variant);
    OnnxModel read = OnnxModel.read(variant);
    assertEquals(dir.resolve("model.onnx_data").toAbsolutePath(), read.initializers().get("w").location());
    assertFalse(Files.exists(dir.resolve("variant.onnx_data")));
    assertThrows(IllegalArgumentException.class, () -> model.rewrite().writeBesideSource(dir.resolve("sub/variant.onnx")));
  }

  @Test
  void refusesWhatIsNotAModel() throws IOException {
    Path text = Files.writeString(dir.resolve("notes.onnx"), "not a protobuf message at all");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxModel.read(text));
    assertTrue(e.getMessage().startsWith("[" + text + "] is not an ONNX model"), e.getMessage());
  }
}
