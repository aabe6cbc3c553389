package org.embeddinggemma.elasticsearch.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.elasticsearch.common.logging.LogConfigurator;
import org.embeddinggemma.elasticsearch.ElementType;
import org.embeddinggemma.elasticsearch.PromptSpec;
import org.embeddinggemma.elasticsearch.action.EmbedAction;
import org.embeddinggemma.engine.Task;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class QueryEmbeddingCacheTests {

  @BeforeAll
  static void logging() {
    // Outside a node nothing has set up Elasticsearch's logging, which its cache needs.
    LogConfigurator.configureESLogging();
  }

  static final PromptSpec QUERY = new PromptSpec(Task.QUERY, null);
  static final QueryEmbeddingCache.Key KEY = new QueryEmbeddingCache.Key("minilm", "red planet", null, QUERY, 256, ElementType.BYTE);

  static EmbedAction.Result result(float value) {
    return new EmbedAction.Result(new float[] {value, value, value}, 5, false, "0123456789abcdef");
  }

  @Test
  void everyPartOfTheKeyChangesTheVector() {
    QueryEmbeddingCache cache = new QueryEmbeddingCache(1 << 20);
    cache.put(KEY, result(1));
    List<QueryEmbeddingCache.Key> others = List.of(
        new QueryEmbeddingCache.Key("other", "red planet", null, QUERY, 256, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "blue planet", null, QUERY, 256, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", "a title", QUERY, 256, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", null, new PromptSpec(Task.DOCUMENT, null), 256, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", null, new PromptSpec(null, "custom: "), 256, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", null, QUERY, 128, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", null, QUERY, null, ElementType.BYTE),
        new QueryEmbeddingCache.Key("minilm", "red planet", null, QUERY, 256, ElementType.FLOAT));
    for (QueryEmbeddingCache.Key other : others) {
      assertNull(cache.get(other), other.toString());
    }
    assertArrayEquals(new float[] {1, 1, 1}, cache.get(new QueryEmbeddingCache.Key("minilm", "red planet", null, QUERY, 256, ElementType.BYTE)).vector());
    Map<String, Object> stats = cache.stats();
    assertEquals(1L, stats.get("hits"));
    assertEquals((long) others.size(), stats.get("misses"));
    assertEquals(1, stats.get("entries"));
  }

  @Test
  void callersGetCopiesTheyMayChange() {
    QueryEmbeddingCache cache = new QueryEmbeddingCache(1 << 20);
    EmbedAction.Result original = result(1);
    cache.put(KEY, original);
    original.vector()[0] = 9;
    EmbedAction.Result first = cache.get(KEY);
    first.vector()[1] = 9;
    EmbedAction.Result second = cache.get(KEY);
    assertNotSame(first.vector(), second.vector());
    assertArrayEquals(new float[] {1, 1, 1}, second.vector());
    assertEquals(5, second.tokens());
  }

  @Test
  void boundedInBytesAndEmptiedOfAReloadedModel() {
    long entry = QueryEmbeddingCache.ENTRY_OVERHEAD_BYTES + 2 * "text 00".length() + 4 * 3;
    QueryEmbeddingCache cache = new QueryEmbeddingCache(entry * 10);
    for (int i = 0; i < 20; i++) {
      cache.put(new QueryEmbeddingCache.Key(i % 2 == 0 ? "a" : "b", "text %02d".formatted(i), null, QUERY, null, ElementType.FLOAT), result(i));
    }
    Map<String, Object> stats = cache.stats();
    assertEquals(10, stats.get("entries"));
    assertEquals(10L, stats.get("evictions"));
    assertEquals(entry * 10, stats.get("memory_in_bytes"));
    assertEquals(entry * 10, stats.get("limit_in_bytes"));
    cache.invalidateModel("a");
    assertEquals(5, cache.stats().get("entries"));
    assertNull(cache.get(new QueryEmbeddingCache.Key("a", "text 18", null, QUERY, null, ElementType.FLOAT)));
    assertArrayEquals(new float[] {19, 19, 19}, cache.get(new QueryEmbeddingCache.Key("b", "text 19", null, QUERY, null, ElementType.FLOAT)).vector());
  }

  @Test
  void sizeZeroTurnsItOff() {
    QueryEmbeddingCache cache = new QueryEmbeddingCache(0);
    cache.put(KEY, result(1));
    assertNull(cache.get(KEY));
    assertEquals(0, cache.stats().get("entries"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new QueryEmbeddingCache(-1));
    assertEquals("maxBytes must be 0 or more, got -1", e.getMessage());
  }
}
