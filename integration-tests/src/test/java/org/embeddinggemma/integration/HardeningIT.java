package org.embeddinggemma.integration;

import static org.embeddinggemma.integration.SingleNodeIT.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.StandInCuda;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator meets on a production node: big bulks, broken and replaced models, bad text, limits, leftovers. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HardeningIT {

  static ElasticsearchCluster cluster;
  static ElasticsearchCluster.Node node;
  static Path cuda;

  @BeforeAll
  static void start(@TempDir Path models) throws Exception {
    Path broken = Files.createDirectories(models.resolve("broken"));
    Files.copy(TestModels.miniLmTokenizer(), broken.resolve("tokenizer.json"));
    Files.writeString(broken.resolve("model.onnx"), "not an onnx graph");
    // Gemma's tokenizer beside MiniLM's graph: ids up to 262143 against a table of 30522 rows.
    Path mismatched = Files.createDirectories(models.resolve("mismatched"));
    Files.copy(TestModels.miniLm().resolve("model.onnx"), mismatched.resolve("model.onnx"));
    Files.copy(TestModels.gemmaTokenizer(), mismatched.resolve("tokenizer.json"));
    Files.writeString(mismatched.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    // MiniLM as an operator installs it: no max_tokens, so the window must come from the model.
    Path bare = Files.createDirectories(models.resolve("minilm-bare"));
    Files.copy(TestModels.miniLmGraph(), bare.resolve("model.onnx"));
    Files.copy(TestModels.miniLmTokenizer(), bare.resolve("tokenizer.json"));
    Files.writeString(bare.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    Path tooLong = Files.createDirectories(models.resolve("minilm-too-long"));
    Files.copy(TestModels.miniLmGraph(), tooLong.resolve("model.onnx"));
    Files.copy(TestModels.miniLmTokenizer(), tooLong.resolve("tokenizer.json"));
    Files.writeString(tooLong.resolve("embedding-gemma.json"), "{\"prompts\": false, \"max_tokens\": 1024}");
    // A config that declares more positions than the graph's table has: texts past 12 tokens fail in the graph.
    Path shortWindow = Files.createDirectories(models.resolve("short-window"));
    TestModels.shortWindowEncoder(12).write(shortWindow.resolve("model.onnx"), Long.MAX_VALUE);
    Files.copy(TestModels.miniLmTokenizer(), shortWindow.resolve("tokenizer.json"));
    Files.writeString(shortWindow.resolve("embedding-gemma.json"), "{\"prompts\": false}");
    Files.writeString(shortWindow.resolve("config.json"), "{\"max_position_embeddings\": 64}");
    cluster =
        ElasticsearchCluster.start(
            "hardening",
            1,
            Map.of(
                "minilm", TestModels.miniLm(),
                "swap", TestModels.miniLm(),
                "full-scale", TestModels.gemmaFullScale(),
                "broken", broken,
                "mismatched", mismatched,
                "minilm-bare", bare,
                "minilm-too-long", tooLong,
                "short-window", shortWindow),
            Map.of("embedding_gemma.default_model", "minilm"),
            onAGpuHost(),
            home -> {},
            null);
    node = cluster.nodes().get(0);
  }

  /**
   * DJL takes the node's host for one with an NVIDIA GPU and CUDA 12.2 (when gcc can build the
   * stand-in CUDA runtime, found through LD_LIBRARY_PATH as a real one is).
   */
  private static Map<String, String> onAGpuHost() throws Exception {
    if (!StandInCuda.buildable()) {
      return Map.of();
    }
    cuda = Files.createTempDirectory("stand-in-cuda-");
    // The node's user writes the marker.
    Files.setPosixFilePermissions(cuda, PosixFilePermissions.fromString("rwxrwxrwx"));
    StandInCuda.build(cuda, cuda.resolve("probed"));
    return Map.of("LD_LIBRARY_PATH", cuda.toString());
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (cuda != null) {
      ElasticsearchCluster.run(List.of("rm", "-rf", cuda.toString()));
    }
  }

  static JsonObject ok(ElasticsearchCluster.Response response) {
    return SingleNodeIT.ok(response);
  }

  static void putPipeline(String id, String processor) {
    ok(cluster.request("PUT", "/_ingest/pipeline/" + id, "{\"processors\": [" + processor + "]}"));
  }

  static JsonObject nodeStats() {
    return ok(cluster.request("GET", "/_embedding_gemma/_stats", null)).getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject();
  }

  static String bulkOf(String index, String prefix, int count) {
    List<Corpus.Sentence> sentences = Corpus.sentences();
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < count; i++) {
      body.append("{\"index\":{\"_index\":\"").append(index).append("\",\"_id\":\"").append(prefix).append(i).append("\"}}\n");
      body.append("{\"text\":").append(json(sentences.get(i % sentences.size()).text() + " #" + i)).append("}\n");
    }
    return body.toString();
  }

  @Test
  void bulksOfThousandsOfDocumentsAreAllIndexedAtDefaultSettings() throws Exception {
    cluster.createByteVectorIndex("big", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    cluster.createEmbeddingPipeline("big");
    long rejectionsBefore = nodeStats().get("rejections").getAsLong();
    JsonObject one = ok(cluster.request("POST", "/_bulk?pipeline=big", bulkOf("big", "one-", 5000)));
    assertFalse(one.get("errors").getAsBoolean(), () -> firstError(one));

    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Future<JsonObject>> responses = new ArrayList<>();
      for (int client = 0; client < 8; client++) {
        String body = bulkOf("big", "client-" + client + "-", 2000);
        responses.add(clients.submit(() -> ok(cluster.request("POST", "/_bulk?pipeline=big", body))));
      }
      for (Future<JsonObject> response : responses) {
        JsonObject bulk = response.get();
        assertFalse(bulk.get("errors").getAsBoolean(), () -> firstError(bulk));
      }
    } finally {
      clients.shutdown();
    }
    ok(cluster.request("POST", "/big/_refresh", null));
    assertEquals(5000 + 8 * 2000, ok(cluster.request("GET", "/big/_count", null)).get("count").getAsInt());
    assertEquals(rejectionsBefore, nodeStats().get("rejections").getAsLong());
  }

  private static String firstError(JsonObject bulk) {
    for (JsonElement item : bulk.getAsJsonArray("items")) {
      JsonObject index = item.getAsJsonObject().getAsJsonObject("index");
      if (index.has("error")) {
        return index.toString();
      }
    }
    return "no error";
  }

  @Test
  void nodeWritesNothingOutsideItsFoldersAndLeavesNoExtractedLibraries() throws Exception {
    ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"a text to embed\"]}"));
    try (Stream<Path> home = Files.walk(node.home().resolve("home"))) {
      assertEquals(List.of(node.home().resolve("home")), home.toList(), "ONNX Runtime's telemetry wrote into the home directory");
    }
    try (Stream<Path> temp = Files.list(node.home().resolve("tmp"))) {
      List<String> names = temp.map(path -> path.getFileName().toString()).toList();
      assertTrue(names.stream().noneMatch(name -> name.startsWith("onnxruntime-java")), names.toString());
      assertTrue(names.contains("embedding-gemma-native-" + (ElasticsearchCluster.ROOT ? ElasticsearchCluster.RUN_AS : System.getProperty("user.name"))), names.toString());
    }
    assertFalse(cluster.fullLog(node).contains("Not entitled"), "the plugin stayed within its entitlements");
  }

  @Test
  void onAGpuHostTheTokenizerIsTheBundledCpuBuild() throws Exception {
    assumeTrue(StandInCuda.buildable(), "gcc builds the stand-in CUDA runtime");
    assertEquals(384, ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"tokenised on a GPU host\"]}")).get("dims").getAsInt());
    assertTrue(Files.exists(cuda.resolve("probed")), "DJL asked the stand-in CUDA runtime for its GPUs");
    try (Stream<Path> temp = Files.walk(node.home().resolve("tmp"))) {
      assertEquals(List.of(), temp.map(Path::toString).filter(path -> path.contains("cu122")).toList(), "no CUDA build looked for");
    }
  }

  /**
   * With the largest model the project has: EmbeddingGemma's size, 1.23 GB of external weights.
   * First, so that nothing has loaded it yet. The PUT did not wait for the load if the model is
   * still loading when it returns: asserted on the state, not on a time a loaded machine may miss.
   */
  @Test
  @Order(1)
  void putPipelineReturnsAtOnceAndDocumentsWaitForTheModel() {
    assertEquals("not_loaded", nodeStats().getAsJsonObject("models").getAsJsonObject("full-scale").get("state").getAsString());
    ok(cluster.request("PUT", "/_ingest/pipeline/gemma", """
        {"processors": [{"embedding_gemma": {"model_id": "full-scale", "field": "text", "target_field": "vector", "dims": 128}}]}"""));
    assertEquals("loading", nodeStats().getAsJsonObject("models").getAsJsonObject("full-scale").get("state").getAsString(),
        "the PUT returned before the model had loaded");
    JsonObject simulated = ok(cluster.request("POST", "/_ingest/pipeline/gemma/_simulate", """
        {"docs": [{"_source": {"text": "Documents wait for a model that is loading."}}]}"""));
    assertEquals(128, simulated.getAsJsonArray("docs").get(0).getAsJsonObject().getAsJsonObject("doc").getAsJsonObject("_source").getAsJsonArray("vector").size());
    assertEquals("loaded", nodeStats().getAsJsonObject("models").getAsJsonObject("full-scale").get("state").getAsString());
  }

  @Test
  void brokenModelIsRememberedLoggedOnceAndAnswered409() {
    for (int i = 0; i < 17; i++) {
      ElasticsearchCluster.Response response = cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"broken\", \"texts\": [\"x\", \"y\"]}");
      assertEquals(409, response.status(), response.body().toString());
      String reason = response.json().getAsJsonObject("error").get("reason").getAsString();
      assertEquals(
          "model [broken] cannot be loaded: cannot load ONNX graph [embedding-gemma/broken/model.onnx]; if its weights are external,"
              + " keep model.onnx_data next to it: Load model from embedding-gemma/broken/model.onnx failed:Protobuf parsing failed.;"
              + " fix its files (the node tries again when they change) or call POST _embedding_gemma/_reload",
          reason);
      assertNoInternals(response.body().toString());
      assertTrue(reason.endsWith("; fix its files (the node tries again when they change) or call POST _embedding_gemma/_reload"), reason);
    }
    String log = cluster.fullLog(node);
    assertEquals(1, log.split("cannot load model \\[broken\\]", -1).length - 1, "logged once");
    assertTrue(nodeStats().getAsJsonObject("models").getAsJsonObject("broken").get("error").getAsString().startsWith("model [broken] cannot be loaded"));
  }

  /** What clients see names files from the models folder down, and holds no class name or native source location. */
  static void assertNoInternals(String body) {
    for (String internal : List.of(node.home().toString(), "/tmp/", "onnxruntime_src", "ai.onnxruntime", "java.lang", "OrtException", ".cc:", ".h:")) {
      assertFalse(body.contains(internal), "[" + internal + "] in " + body);
    }
  }

  @Test
  void errorBodiesOfEveryEndpointCarryNoInternals() {
    String processor = "{\"embedding_gemma\": {\"model_id\": \"broken\", \"field\": \"text\", \"target_field\": \"vector\"}}";
    ElasticsearchCluster.Response put = cluster.request("PUT", "/_ingest/pipeline/broken", "{\"processors\": [" + processor + "]}");
    // 400 once the node knows the model is broken; accepted while its first load is under way.
    assertNoInternals(put.body().toString());
    // A document's error, as bulk items carry it.
    ElasticsearchCluster.Response simulated = cluster.request("POST", "/_ingest/pipeline/_simulate", """
        {"pipeline": {"processors": [%s]}, "docs": [{"_source": {"text": "a document for a broken model"}}]}""".formatted(processor));
    assertTrue(simulated.body().toString().contains("model [broken] cannot be loaded"), simulated.body().toString());
    assertNoInternals(simulated.body().toString());
    assertNoInternals(cluster.request("GET", "/_embedding_gemma/_stats", null).body().toString());
    // Not [broken], whose one log line another test counts.
    ElasticsearchCluster.Response reload = cluster.request("POST", "/_embedding_gemma/_reload/mismatched", null);
    assertTrue(reload.body().toString().contains("but ONNX graph [embedding-gemma/mismatched/model.onnx] cannot embed token id 262143"),
        reload.body().toString());
    assertNoInternals(reload.body().toString());
    cluster.createByteVectorIndex("broken-search", 384, "{}");
    ElasticsearchCluster.Response search = cluster.request("POST", "/broken-search/_search", """
        {"knn": {"field": "vector", "k": 1, "num_candidates": 10,
                 "query_vector_builder": {"embedding_gemma": {"model_id": "broken", "model_text": "a query"}}}}""");
    assertTrue(search.status() != 500 && search.body().toString().contains("model [broken] cannot be loaded"), search.body().toString());
    assertNoInternals(search.body().toString());
  }

  /**
   * MiniLM's graph has 512 positions and its folder says nothing of it: the window is found by
   * running the graph, so that a longer text is truncated, not failed with a 500, in every form.
   */
  @Test
  void theWindowIsTheModelsOwnInEveryPathAndMaxTokensPastItIsRefused() {
    String longText = json("word ".repeat(700));
    JsonObject embedded = ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"minilm-bare\", \"texts\": [" + longText + "]}"));
    JsonObject result = embedded.getAsJsonArray("embeddings").get(0).getAsJsonObject();
    assertEquals(512, result.get("tokens").getAsInt());
    assertTrue(result.get("truncated").getAsBoolean());
    JsonObject model = nodeStats().getAsJsonObject("models").getAsJsonObject("minilm-bare");
    assertEquals(512, model.get("max_tokens").getAsInt());
    assertEquals("the longest input ONNX graph [model.onnx] runs", model.get("max_tokens_source").getAsString());

    cluster.createByteVectorIndex("bare", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    putPipeline("bare", "{\"embedding_gemma\": {\"model_id\": \"minilm-bare\", \"field\": \"text\", \"target_field\": \"vector\"}}");
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?pipeline=bare&refresh=true", """
        {"index": {"_index": "bare", "_id": "long"}}
        {"text": %s}
        """.formatted(longText)));
    assertFalse(bulk.get("errors").getAsBoolean(), bulk.toString());
    String builder = "{\"embedding_gemma\": {\"model_id\": \"minilm-bare\", \"model_text\": " + longText + "}}";
    for (String search : List.of(
        "{\"knn\": {\"field\": \"vector\", \"k\": 1, \"num_candidates\": 10, \"query_vector_builder\": " + builder + "}}",
        "{\"query\": {\"knn\": {\"field\": \"vector\", \"k\": 1, \"num_candidates\": 10, \"query_vector_builder\": " + builder + "}}}",
        "{\"retriever\": {\"knn\": {\"field\": \"vector\", \"k\": 1, \"num_candidates\": 10, \"query_vector_builder\": " + builder + "}}}")) {
      JsonObject hits = ok(cluster.request("POST", "/bare/_search", search)).getAsJsonObject("hits");
      assertEquals("long", hits.getAsJsonArray("hits").get(0).getAsJsonObject().get("_id").getAsString(), search);
    }

    ElasticsearchCluster.Response tooLong = cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"minilm-too-long\", \"texts\": [\"a\"]}");
    assertEquals(409, tooLong.status(), tooLong.body().toString());
    assertEquals(
        "model [minilm-too-long] cannot be loaded: max_tokens [1024] in embedding-gemma.json of [embedding-gemma/minilm-too-long] exceeds"
            + " the 512 tokens ONNX graph [model.onnx] takes (a text of 513 tokens fails in it); set it to 512 or less, or leave it out;"
            + " fix its files (the node tries again when they change) or call POST _embedding_gemma/_reload",
        tooLong.json().getAsJsonObject("error").get("reason").getAsString());
  }

  /** A model run that fails for one text fails that text with a 400 that says why; the rest of the bulk is indexed. */
  @Test
  void aTextTheModelFailsOnIsA400ForThatTextAlone() {
    cluster.createByteVectorIndex("short", 8, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    putPipeline("short", "{\"embedding_gemma\": {\"model_id\": \"short-window\", \"field\": \"text\", \"target_field\": \"vector\"}}");
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?pipeline=short&refresh=true", """
        {"index": {"_index": "short", "_id": "fits"}}
        {"text": "a b c"}
        {"index": {"_index": "short", "_id": "too-long"}}
        {"text": "a b c d e f g h i j k l m n"}
        {"index": {"_index": "short", "_id": "fits-too"}}
        {"text": "a a"}
        """));
    JsonArray items = bulk.getAsJsonArray("items");
    assertEquals(201, items.get(0).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt());
    assertEquals(201, items.get(2).getAsJsonObject().getAsJsonObject("index").get("status").getAsInt());
    JsonObject failed = items.get(1).getAsJsonObject().getAsJsonObject("index");
    assertEquals(400, failed.get("status").getAsInt(), failed.toString());
    String reason = failed.getAsJsonObject("error").get("reason").getAsString();
    assertEquals(
        "model [short-window] cannot embed the text: the model failed on a text of 16 tokens: Non-zero status code returned while"
            + " running Add node. Name:'Add_5' Status Message: axis == 1 || axis == largest was false. Attempting to broadcast an axis"
            + " by a dimension other than 1. 12 by 16",
        reason);
    assertNoInternals(failed.toString());
    ElasticsearchCluster.Response embed =
        cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"short-window\", \"texts\": [\"a b c d e f g h i j k l m n\"]}");
    assertEquals(400, embed.status(), embed.body().toString());
    assertEquals(reason, embed.json().getAsJsonObject("error").get("reason").getAsString());
  }

  @Test
  void aModelFolderTheNodeCannotReadSaysSo() throws Exception {
    Path folder = node.home().resolve("config/embedding-gemma/unreadable");
    ElasticsearchCluster.run(List.of("cp", "-rL", TestModels.miniLm().toString(), folder.toString()));
    // Owned by the test's user and closed to others: the node's user cannot list it.
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString(ElasticsearchCluster.ROOT ? "rwx------" : "---------"));
    try {
      ElasticsearchCluster.Response response = cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"unreadable\", \"texts\": [\"a\"]}");
      assertEquals(409, response.status(), response.body().toString());
      String user = ElasticsearchCluster.ROOT ? ElasticsearchCluster.RUN_AS : System.getProperty("user.name");
      assertEquals(
          "model [unreadable] cannot be loaded: model directory [embedding-gemma/unreadable] cannot be read by user [" + user + "], who runs"
              + " this process; give that user read access to the folder and its files (e.g. chmod -R a+rX); fix its files (the node"
              + " tries again when they change) or call POST _embedding_gemma/_reload",
          response.json().getAsJsonObject("error").get("reason").getAsString());
    } finally {
      Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /**
   * Reloads swap in new copies of the 1.24 GB model; each copy used hundreds of megabytes of native
   * memory that glibc kept after the copy closed, so that 20 reloads took a node from 2.1 to 5.9 GB.
   * Now the memory goes back when the old copy closes: 8 reloads, and 8 that fail after loading the
   * whole graph (a dims past the model's), may add less than one copy's share (about 0.8 GB).
   */
  @Test
  void reloadsGiveTheReplacedCopiesNativeMemoryBack() throws Exception {
    String embed = "{\"model_id\": \"full-scale\", \"texts\": [\"A text after a reload.\"], \"dims\": 128}";
    ok(cluster.request("POST", "/_embedding_gemma/_embed", embed));
    long before = cluster.residentBytes(node);
    for (int i = 0; i < 8; i++) {
      JsonObject reload = ok(cluster.request("POST", "/_embedding_gemma/_reload/full-scale", null));
      assertTrue(reload.toString().contains("\"reload\":\"reloaded\""), reload.toString());
      ok(cluster.request("POST", "/_embedding_gemma/_embed", embed));
    }
    long afterReloads = cluster.residentBytes(node);
    Path config = node.home().resolve("config/embedding-gemma/full-scale/embedding-gemma.json");
    Files.writeString(config, "{\"dims\": 4096}");
    try {
      for (int i = 0; i < 8; i++) {
        JsonObject reload = ok(cluster.request("POST", "/_embedding_gemma/_reload/full-scale", null));
        assertTrue(reload.toString().contains("dims [4096] in embedding-gemma.json of [embedding-gemma/full-scale] exceeds the model's 768 dims"),
            reload.toString());
        ok(cluster.request("POST", "/_embedding_gemma/_embed", embed));
      }
    } finally {
      Files.delete(config);
    }
    long afterFailures = cluster.residentBytes(node);
    System.out.printf("full-scale reloads: node RSS %d MB -> %d MB after 8 reloads -> %d MB after 8 failed reloads%n",
        before >> 20, afterReloads >> 20, afterFailures >> 20);
    assertTrue(afterReloads - before < 500L << 20, "8 reloads: " + (before >> 20) + " MB -> " + (afterReloads >> 20) + " MB");
    assertTrue(afterFailures - before < 500L << 20, "8 failed reloads: " + (before >> 20) + " MB -> " + (afterFailures >> 20) + " MB");
    ok(cluster.request("POST", "/_embedding_gemma/_reload/full-scale", null));
  }

  @Test
  void tokenizerOfAnotherModelIsRefusedAtLoad() {
    ElasticsearchCluster.Response response = cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"mismatched\", \"texts\": [\"a\"]}");
    assertEquals(409, response.status(), response.body().toString());
    String reason = response.json().getAsJsonObject("error").get("reason").getAsString();
    assertTrue(reason.contains("has token ids up to 262143 but ONNX graph ["), reason);
    assertTrue(reason.contains("cannot embed token id 262143; the tokenizer and the graph must come from the same model"), reason);
  }

  @Test
  void replacedModelFilesTakeEffectOnReload() throws Exception {
    String request = "{\"model_id\": \"swap\", \"texts\": [\"replace me\"], \"element_type\": \"float\"}";
    assertEquals(384, ok(cluster.request("POST", "/_embedding_gemma/_embed", request)).get("dims").getAsInt());
    Path files = node.home().resolve("config/embedding-gemma/swap");
    ElasticsearchCluster.run(List.of("rm", "-rf", files.toString()));
    ElasticsearchCluster.run(List.of("cp", "-rL", TestModels.gemmaShaped(TestModels.Layout.EXPORT).toString(), files.toString()));
    if (ElasticsearchCluster.ROOT) {
      ElasticsearchCluster.run(List.of("chown", "-R", ElasticsearchCluster.RUN_AS + ":", files.toString()));
    }
    assertEquals(384, ok(cluster.request("POST", "/_embedding_gemma/_embed", request)).get("dims").getAsInt(), "the loaded copy stays until a reload");
    JsonObject reload = ok(cluster.request("POST", "/_embedding_gemma/_reload/swap", null));
    JsonObject reloaded = reload.getAsJsonObject("nodes").entrySet().iterator().next().getValue().getAsJsonObject().getAsJsonObject("models").getAsJsonObject("swap");
    assertEquals("reloaded", reloaded.get("reload").getAsString(), reload.toString());
    assertEquals(768, ok(cluster.request("POST", "/_embedding_gemma/_embed", request)).get("dims").getAsInt());
  }

  @Test
  void textsWithNothingToEmbedFailAloneAndTruncationIsCountedRecordedOrRefused() {
    putPipeline("truncation-recorded", "{\"embedding_gemma\": {\"field\": \"text\", \"target_field\": \"vector\", \"dims\": 16, \"truncated_field\": \"cut\"}}");
    putPipeline("truncation-refused", "{\"embedding_gemma\": {\"field\": \"text\", \"target_field\": \"vector\", \"dims\": 16, \"truncate\": false}}");
    long truncationsBefore = nodeStats().get("truncations").getAsLong();
    String longText = json("word ".repeat(400));
    JsonObject bulk = ok(cluster.request("POST", "/_bulk?refresh=true", """
        {"index": {"_index": "texts", "_id": "zero-width", "pipeline": "truncation-recorded"}}
        {"text": "\\u200b\\u200b"}
        {"index": {"_index": "texts", "_id": "nul", "pipeline": "truncation-recorded"}}
        {"text": "\\u0000"}
        {"index": {"_index": "texts", "_id": "surrogate", "pipeline": "truncation-recorded"}}
        {"text": "\\ud800"}
        {"index": {"_index": "texts", "_id": "dropped", "pipeline": "truncation-recorded"}}
        {"text": "\\udfff\\ud800\\udc7f"}
        {"index": {"_index": "texts", "_id": "short", "pipeline": "truncation-recorded"}}
        {"text": "A short text."}
        {"index": {"_index": "texts", "_id": "long-recorded", "pipeline": "truncation-recorded"}}
        {"text": %s}
        {"index": {"_index": "texts", "_id": "long-refused", "pipeline": "truncation-refused"}}
        {"text": %s}
        """.formatted(longText, longText)));
    Map<String, JsonObject> items = new java.util.HashMap<>();
    for (JsonElement item : bulk.getAsJsonArray("items")) {
      JsonObject index = item.getAsJsonObject().getAsJsonObject("index");
      items.put(index.get("_id").getAsString(), index);
    }
    for (String id : List.of("zero-width", "nul", "surrogate")) {
      assertEquals(400, items.get(id).get("status").getAsInt(), id);
      assertEquals(
          "field [text] has nothing to embed: it holds only whitespace, control, format or unpaired surrogate characters",
          items.get(id).getAsJsonObject("error").get("reason").getAsString());
    }
    // A lone surrogate and an unassigned code point: MiniLM's normaliser drops both, one rule everywhere.
    assertEquals(400, items.get("dropped").get("status").getAsInt());
    assertEquals("field [text] has nothing to embed: it makes no tokens", items.get("dropped").getAsJsonObject("error").get("reason").getAsString());
    ElasticsearchCluster.Response dropped = cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"fine\", \"\\udfff\\ud800\\udc7f\"]}");
    assertEquals(400, dropped.status(), dropped.body().toString());
    assertEquals("[texts][1] has nothing to embed: it makes no tokens", dropped.json().getAsJsonObject("error").get("reason").getAsString());
    assertEquals(
        "field [text] is longer than the 256 tokens model [minilm] takes (prompt and special tokens included); shorten it, or set [truncate] to true to embed its start",
        items.get("long-refused").getAsJsonObject("error").get("reason").getAsString());
    assertEquals(false, ok(cluster.request("GET", "/texts/_doc/short", null)).getAsJsonObject("_source").get("cut").getAsBoolean());
    assertEquals(true, ok(cluster.request("GET", "/texts/_doc/long-recorded", null)).getAsJsonObject("_source").get("cut").getAsBoolean());
    assertEquals(truncationsBefore + 2, nodeStats().get("truncations").getAsLong(), "the recorded and the refused long text");
  }

  @Test
  void embedRequestsAreLimitedAndMessagesUseOneWording() {
    StringBuilder texts = new StringBuilder();
    for (int i = 0; i < 257; i++) {
      texts.append(i == 0 ? "" : ",").append("\"text ").append(i).append('"');
    }
    ElasticsearchCluster.Response tooMany = cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [" + texts + "]}");
    assertEquals(400, tooMany.status());
    assertEquals(
        "[texts] holds 257 texts, more than the 256 that [embedding_gemma.embed.max_texts] allows; send fewer texts per request",
        tooMany.json().getAsJsonObject("error").get("reason").getAsString());
    String huge = json("x".repeat(600_000));
    ElasticsearchCluster.Response tooLong = cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [" + huge + ", " + huge + "]}");
    assertEquals(400, tooLong.status());
    assertEquals(
        "[texts] hold 1200000 characters, more than the 1000000 that [embedding_gemma.embed.max_characters] allows; send fewer or shorter texts per request",
        tooLong.json().getAsJsonObject("error").get("reason").getAsString());

    ElasticsearchCluster.Response dims = cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"a\"], \"dims\": 1000}");
    assertEquals(400, dims.status());
    assertEquals("[dims] model [minilm] has 384 dims, cannot produce 1000", dims.json().getAsJsonObject("error").get("reason").getAsString());
    assertEquals(256, ok(cluster.request("POST", "/_embedding_gemma/_embed", "{\"texts\": [\"a\"], \"dims\": \"256\"}")).get("dims").getAsInt());

    ElasticsearchCluster.Response missing = cluster.request("POST", "/_embedding_gemma/_embed", "{\"model_id\": \"absent\", \"texts\": [\"a\"]}");
    assertEquals(404, missing.status());
    String reason = missing.json().getAsJsonObject("error").get("reason").getAsString();
    assertEquals("model [absent] is not installed on this node: no folder [embedding-gemma/absent] in its config directory", reason);
  }

  @Test
  void embedStopsBetweenBatchesWhenTheClientGoesAway() throws Exception {
    StringBuilder texts = new StringBuilder();
    List<Corpus.Sentence> sentences = Corpus.sentences();
    for (int i = 0; i < 256; i++) {
      StringBuilder text = new StringBuilder();
      for (int k = i; text.length() < 2000; k++) {
        text.append(sentences.get(k % sentences.size()).text()).append(' ');
      }
      texts.append(i == 0 ? "" : ",").append(json(text.toString()));
    }
    byte[] body = ("{\"texts\": [" + texts + "]}").getBytes(StandardCharsets.UTF_8);
    long runsBefore = inferenceCount();
    long rssBefore = cluster.residentBytes(node);
    try (Socket client = new Socket("127.0.0.1", node.httpPort())) {
      OutputStream out = client.getOutputStream();
      out.write(("POST /_embedding_gemma/_embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      for (int attempt = 0; attempt < 600 && inferenceCount() == runsBefore; attempt++) {
        Thread.sleep(20);
      }
    }
    long closed = System.nanoTime();
    // 256 texts in batches of 16: the whole request is 16 model runs.
    while (!ok(cluster.request("GET", "/_tasks?actions=cluster:monitor/embedding_gemma/embed*", null)).getAsJsonObject("nodes").isEmpty()) {
      assertTrue(System.nanoTime() - closed < 30_000_000_000L, "the embed task outlived its client by 30 s");
      Thread.sleep(20);
    }
    long runs = inferenceCount() - runsBefore;
    assertTrue(runs >= 1 && runs < 16, runs + " of 16 batches ran after the client left");
    System.out.printf("_embed cancelled after %d of 16 batches, %d ms after the client left; node RSS %d MB -> %d MB%n",
        runs, (System.nanoTime() - closed) / 1_000_000, rssBefore >> 20, cluster.residentBytes(node) >> 20);
  }

  private static long inferenceCount() {
    return nodeStats().getAsJsonObject("inference").get("count").getAsLong();
  }

  @Test
  void repeatedQueriesComeFromTheCacheUntilTheirModelIsReloaded() {
    cluster.createByteVectorIndex("cached", 384, "{\"number_of_shards\": 1, \"number_of_replicas\": 0}");
    cluster.createEmbeddingPipeline("cached");
    ok(cluster.request("POST", "/_bulk?pipeline=cached&refresh=true", bulkOf("cached", "doc-", 20)));
    String search = """
        {"knn": {"field": "vector", "k": 3, "num_candidates": 20,
                 "query_vector_builder": {"embedding_gemma": {"model_text": "which planet is red?"%s}}}}""";
    long queries = nodeStats().get("queries_embedded").getAsLong();
    JsonObject cache = nodeStats().getAsJsonObject("query_cache");
    long hits = cache.get("hits").getAsLong();
    long misses = cache.get("misses").getAsLong();

    JsonArray first = ok(cluster.request("POST", "/cached/_search", search.formatted(""))).getAsJsonObject("hits").getAsJsonArray("hits");
    JsonArray second = ok(cluster.request("POST", "/cached/_search", search.formatted(""))).getAsJsonObject("hits").getAsJsonArray("hits");
    assertEquals(first, second);
    assertEquals(queries + 1, nodeStats().get("queries_embedded").getAsLong(), "one model run for two searches");
    assertEquals(hits + 1, nodeStats().getAsJsonObject("query_cache").get("hits").getAsLong());

    ok(cluster.request("POST", "/cached/_search", search.formatted(", \"task\": \"none\"")));
    assertEquals(queries + 2, nodeStats().get("queries_embedded").getAsLong(), "another prompt, another vector");

    ok(cluster.request("POST", "/_embedding_gemma/_reload/minilm", null));
    ok(cluster.request("POST", "/cached/_search", search.formatted("")));
    assertEquals(queries + 3, nodeStats().get("queries_embedded").getAsLong(), "the reloaded model runs again");
    assertEquals(misses + 3, nodeStats().getAsJsonObject("query_cache").get("misses").getAsLong());
  }

  @Test
  void queryBuilderErrorsAreTheRootCause() {
    cluster.createByteVectorIndex("roots", 384, "{}");
    ElasticsearchCluster.Response response = cluster.request("POST", "/roots/_search", """
        {"knn": {"field": "vector", "k": 1, "num_candidates": 10,
                 "query_vector_builder": {"embedding_gemma": {"model_text": "\\u200b"}}}}""");
    assertEquals(400, response.status(), response.body().toString());
    JsonObject rootCause = response.json().getAsJsonObject("error").getAsJsonArray("root_cause").get(0).getAsJsonObject();
    assertEquals(
        "[embedding_gemma] [model_text] has nothing to embed: it holds only whitespace, control, format or unpaired surrogate characters",
        rootCause.get("reason").getAsString(), response.body().toString());
  }
}
