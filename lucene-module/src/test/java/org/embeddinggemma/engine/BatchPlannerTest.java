package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.ReferenceImplementation;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

class BatchPlannerTest {

  @Test
  void cutsSortedTextsByCount() {
    List<int[]> runs = new BatchPlanner(2, 1000).plan(new int[] {30, 10, 20, 10, 40});
    assertEquals(3, runs.size());
    assertArrayEquals(new int[] {1, 3}, runs.get(0));
    assertArrayEquals(new int[] {2, 0}, runs.get(1));
    assertArrayEquals(new int[] {4}, runs.get(2));
  }

  @Test
  void cutsByPaddedTokens() {
    // 3 × 100 fits a budget of 300; a fourth text of 100 would make 400.
    List<int[]> runs = new BatchPlanner(16, 300).plan(new int[] {100, 100, 100, 100, 150, 150, 8000});
    assertArrayEquals(new int[] {0, 1, 2}, runs.get(0));
    // 100 and 150 pad to 2 × 150 = 300.
    assertArrayEquals(new int[] {3, 4}, runs.get(1));
    assertArrayEquals(new int[] {5}, runs.get(2));
    // Longer than the budget: alone.
    assertArrayEquals(new int[] {6}, runs.get(3));
    assertEquals(4, runs.size());
  }

  @Test
  void everyTextIsInOneRunWithinTheLimits() {
    SplittableRandom random = new SplittableRandom(7);
    int[] lengths = new int[500];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = 1 + random.nextInt(random.nextBoolean() ? 60 : 9000);
    }
    BatchPlanner planner = new BatchPlanner(16, 8192);
    int[] seen = new int[lengths.length];
    int previousLongest = 0;
    for (int[] run : planner.plan(lengths)) {
      assertTrue(run.length >= 1 && run.length <= 16, Arrays.toString(run));
      int longest = Arrays.stream(run).map(i -> lengths[i]).max().orElseThrow();
      assertTrue(run.length == 1 || (long) run.length * longest <= 8192, "run " + Arrays.toString(run) + " pads to " + run.length * longest);
      assertTrue(lengths[run[0]] >= previousLongest, "runs come shortest first");
      previousLongest = longest;
      for (int index : run) {
        seen[index]++;
      }
    }
    for (int count : seen) {
      assertEquals(1, count);
    }
  }

  @Test
  void refusesLimitsBelowOne() {
    assertEquals("maxBatchSize must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> new BatchPlanner(0, 10)).getMessage());
    assertEquals("tokenBudget must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> new BatchPlanner(4, 0)).getMessage());
  }

  /** A small budget changes how texts are run, never their vectors or their order. */
  @Test
  void theEngineGivesTheSameVectorsUnderAnyBudget() {
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (Corpus.Sentence sentence : Corpus.sentences().subList(0, 40)) {
      inputs.add(EmbeddingInput.of(sentence.text(), PromptTemplate.NONE));
    }
    inputs.add(EmbeddingInput.of(String.join(" ", Corpus.sentences().stream().limit(30).map(Corpus.Sentence::text).toList()), PromptTemplate.NONE));
    List<Embedding> wide;
    try (TextEmbedder embedder = TextEmbedder.open(TestModels.miniLmFloat(), new EmbedderSettings(1, 16))) {
      assertEquals(BatchPlanner.DEFAULT_TOKEN_BUDGET, embedder.planner().tokenBudget());
      wide = embedder.embed(inputs, 384);
    }
    try (TextEmbedder embedder = TextEmbedder.open(TestModels.miniLmFloat(), new EmbedderSettings(1, 16, 64))) {
      List<TokenizedText> tokenized = inputs.stream().map(embedder::prepare).toList();
      List<int[]> runs = embedder.planner().plan(tokenized);
      assertTrue(runs.size() > 41 / 16 + 1, "a budget of 64 tokens cuts the 41 texts into more runs than 16 per run would: " + runs.size());
      List<Embedding> narrow = embedder.embed(inputs, 384);
      for (int i = 0; i < inputs.size(); i++) {
        assertEquals(wide.get(i).tokenCount(), narrow.get(i).tokenCount());
        assertTrue(ReferenceImplementation.cosine(wide.get(i).vector(), narrow.get(i).vector()) >= FidelityTest.SAME_VECTOR, "text " + i);
      }
    }
  }
}
