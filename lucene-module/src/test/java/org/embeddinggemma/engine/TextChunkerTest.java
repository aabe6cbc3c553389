package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.embeddinggemma.engine.ChunkingSettings.Strategy;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.LongDocuments;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Passages measured in the model's own tokens, with MiniLM's WordPiece and the real Gemma 3 tokenizer. */
class TextChunkerTest {

  static TextEmbedder miniLm;
  static TextEmbedder gemma;
  static String corpus;

  @BeforeAll
  static void load() {
    miniLm = TextEmbedder.open(TestModels.miniLm(), new EmbedderSettings(1, 8));
    gemma = TextEmbedder.open(TestModels.gemmaShaped(TestModels.Layout.EXPORT), new EmbedderSettings(1, 8));
    StringBuilder text = new StringBuilder();
    for (Corpus.Sentence sentence : Corpus.sentences().subList(0, 120)) {
      text.append(sentence.text()).append(sentence.id().endsWith("5") ? "\n\n" : " ");
    }
    corpus = text.toString();
  }

  @AfterAll
  static void close() {
    miniLm.close();
    gemma.close();
  }

  static ChunkingSettings settings(Strategy strategy, int maxTokens, int overlap) {
    return new ChunkingSettings(strategy, maxTokens, overlap, 1000, false);
  }

  /** Each passage fits, says how many tokens it has, is its offsets' text, and only whitespace lies between passages. */
  static void assertWellFormed(TextEmbedder embedder, String text, TextChunker.Chunks chunks, PromptTemplate prompt, String title, boolean overlapping) {
    List<Passage> passages = chunks.passages();
    assertFalse(passages.isEmpty());
    for (int i = 0; i < passages.size(); i++) {
      Passage passage = passages.get(i);
      String passageText = passage.text(text);
      assertEquals(passageText.strip(), passageText, "no whitespace at either end");
      assertFalse(Character.isLowSurrogate(text.charAt(passage.start())), "starts inside a surrogate pair");
      assertFalse(passage.end() < text.length() && Character.isLowSurrogate(text.charAt(passage.end())), "ends inside a surrogate pair");
      int tokens = embedder.tokenize(new EmbeddingInput(passageText, prompt, title)).length();
      assertEquals(tokens, passage.tokens());
      if (i > 0) {
        Passage previous = passages.get(i - 1);
        assertTrue(passage.start() > previous.start(), "in text order");
        if (overlapping) {
          assertTrue(passage.start() < previous.end(), "overlaps the previous passage: " + previous + " " + passage + " [" + previous.text(text) + "] [" + passage.text(text) + "]");
        } else {
          assertTrue(text.substring(previous.end(), passage.start()).isBlank(), "only whitespace between passages: [" + text.substring(previous.end(), passage.start()) + "]");
        }
      }
    }
    assertTrue(text.substring(0, passages.get(0).start()).isBlank(), "nothing before the first passage");
    assertTrue(text.substring(passages.get(passages.size() - 1).end()).isBlank(), "nothing after the last passage");
  }

  @Test
  void passagesNeverExceedTheSizeWithPromptTitleAndSpecialTokens() {
    for (TextEmbedder embedder : List.of(miniLm, gemma)) {
      PromptTemplate prompt = embedder.takesTaskPrompts() ? embedder.prompt(Task.DOCUMENT) : PromptTemplate.NONE;
      for (Strategy strategy : Strategy.values()) {
        for (int size : List.of(16, 48, 128)) {
          TextChunker chunker = new TextChunker(embedder, settings(strategy, size, 0));
          TextChunker.Chunks chunks = chunker.chunk(corpus, prompt, "Notes on many things");
          for (Passage passage : chunks.passages()) {
            assertTrue(passage.tokens() <= size, strategy + " " + size + ": " + passage.tokens() + " tokens in " + passage.text(corpus));
          }
          assertWellFormed(embedder, corpus, chunks, prompt, "Notes on many things", false);
          if (strategy == Strategy.TOKENS) {
            // Windows end before a word where one starts in their last quarter.
            for (Passage p : chunks.passages().subList(0, chunks.passages().size() - 1)) {
              assertTrue(p.tokens() >= size / 2, "windows are nearly full: " + embedder.directory().root().getFileName() + " " + size + " " + p + " [" + p.text(corpus) + "]");
            }
          }
        }
      }
    }
  }

  @Test
  void sentencesAreKeptWholeWhenTheyFit() {
    TextChunker chunker = new TextChunker(miniLm, settings(Strategy.SENTENCE, 64, 0));
    for (Passage passage : chunker.chunk(corpus, PromptTemplate.NONE, null).passages()) {
      String text = passage.text(corpus);
      assertTrue(text.endsWith(".") || text.endsWith("?") || text.endsWith("!"), text);
      assertTrue(Character.isUpperCase(text.charAt(0)) || Character.isDigit(text.charAt(0)), text);
    }
  }

  @Test
  void scriptsWithoutSpacesEmojiAndMixedText() {
    String text = "日本語のテキストです。二つ目の文です！三つ目の文はここにあります？"
        + "中文句子一。中文句子二！😀🚀 emoji 👩‍👩‍👧 family. Привет, мир. مرحبا بالعالم. नमस्ते दुनिया।";
    for (TextEmbedder embedder : List.of(miniLm, gemma)) {
      for (Strategy strategy : Strategy.values()) {
        TextChunker chunker = new TextChunker(embedder, settings(strategy, 12, 0));
        TextChunker.Chunks chunks = chunker.chunk(text, PromptTemplate.NONE, null);
        assertTrue(chunks.passages().size() > 3, chunks.toString());
        assertWellFormed(embedder, text, chunks, PromptTemplate.NONE, null, false);
        chunks.passages().forEach(p -> assertTrue(p.tokens() <= 12, p + " " + p.text(text)));
      }
    }
    List<Passage> japanese = new TextChunker(gemma, settings(Strategy.SENTENCE, 12, 0)).chunk(text, PromptTemplate.NONE, null).passages();
    assertEquals("日本語のテキストです。", japanese.get(0).text(text));
  }

  @Test
  void aSentenceLongerThanTheSizeIsCutAtTokens() {
    String text = "word ".repeat(1000) + "end. A short sentence.";
    TextChunker chunker = new TextChunker(gemma, settings(Strategy.SENTENCE, 100, 0));
    TextChunker.Chunks chunks = chunker.chunk(text, gemma.prompt(Task.DOCUMENT), null);
    assertWellFormed(gemma, text, chunks, gemma.prompt(Task.DOCUMENT), null, false);
    assertEquals("A short sentence.", chunks.passages().get(chunks.passages().size() - 1).text(text));
    assertTrue(chunks.passages().size() >= 11, chunks.passages().size() + " passages");
  }

  @Test
  void punctuationOnlyIsAPassageAndWhitespaceOnlyIsNothing() {
    String text = "  ... !!! ??? --- ;;;  ";
    TextChunker chunker = new TextChunker(miniLm, settings(Strategy.SENTENCE, 32, 0));
    TextChunker.Chunks chunks = chunker.chunk(text, PromptTemplate.NONE, null);
    assertWellFormed(miniLm, text, chunks, PromptTemplate.NONE, null, false);
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> chunker.chunk(" \n\t\u200b ", PromptTemplate.NONE, null));
    assertEquals("text has nothing to embed: " + EmbeddingInput.NO_CONTENT, empty.getMessage());
  }

  @Test
  void overlapRepeatsTokensOrWholeSentences() {
    TextChunker.Chunks tokens = new TextChunker(miniLm, settings(Strategy.TOKENS, 40, 10)).chunk(corpus, PromptTemplate.NONE, null);
    assertWellFormed(miniLm, corpus, tokens, PromptTemplate.NONE, null, true);
    TokenSpans spans = miniLm.tokenSpans(corpus);
    for (int i = 1; i < tokens.passages().size(); i++) {
      Passage previous = tokens.passages().get(i - 1);
      Passage current = tokens.passages().get(i);
      int shared = 0;
      for (int t = 0; t < spans.size(); t++) {
        shared += spans.starts()[t] >= current.start() && spans.ends()[t] <= previous.end() ? 1 : 0;
      }
      // 10, and a few more where the overlap reaches back to the start of a word.
      assertTrue(shared >= 10 && shared <= 20, "passages " + (i - 1) + " and " + i + " share " + shared + " tokens");
    }

    List<Passage> sentences = new TextChunker(miniLm, settings(Strategy.SENTENCE, 64, 1)).chunk(corpus, PromptTemplate.NONE, null).passages();
    for (int i = 1; i < sentences.size(); i++) {
      String previous = sentences.get(i - 1).text(corpus);
      String current = sentences.get(i).text(corpus);
      java.text.BreakIterator sentenceBreaks = java.text.BreakIterator.getSentenceInstance(java.util.Locale.ROOT);
      sentenceBreaks.setText(current);
      String firstSentence = current.substring(0, sentenceBreaks.next()).strip();
      assertTrue(previous.endsWith(firstSentence), "passage " + i + " starts with the last sentence of the one before: [" + firstSentence + "]");
    }
  }

  @Test
  void passageLimitFailsWithTheCountOrKeepsTheFirst() {
    ChunkingSettings strict = new ChunkingSettings(Strategy.SENTENCE, 32, 0, 5, false);
    int all = new TextChunker(miniLm, settings(Strategy.SENTENCE, 32, 0)).chunk(corpus, PromptTemplate.NONE, null).passages().size();
    IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> new TextChunker(miniLm, strict).chunk(corpus, PromptTemplate.NONE, null));
    assertEquals(
        "text makes " + all + " passages of at most 32 tokens, more than the 5 allowed; raise the passage limit, use longer passages, or keep only the first passages",
        tooMany.getMessage());
    TextChunker.Chunks first = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 32, 0, 5, true)).chunk(corpus, PromptTemplate.NONE, null);
    assertEquals(5, first.passages().size());
    assertEquals(all, first.found());
    assertTrue(first.limited());
  }

  /** The limit is the document's: 10,000 short strings cannot make 10,000 passages of a 100-passage limit. */
  @Test
  void passageLimitCountsEveryTextOfTheDocument() {
    List<String> texts = new java.util.ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      texts.add("Short string number " + i + ".");
    }
    TextChunker strict = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 64, 0, 100, false));
    TextRejectedException tooMany = assertThrows(TextRejectedException.class, () -> strict.chunk(texts, PromptTemplate.NONE, null));
    assertEquals(-1, tooMany.index());
    assertEquals(
        "makes more than 100 passages of at most 64 tokens, the most allowed for one document (10000 texts make more); raise the"
            + " passage limit, use longer passages, or keep only the first passages",
        tooMany.reason());
    // Fewer texts than the limit, but their passages add up past it.
    List<String> long3 = List.of(corpus, corpus, corpus);
    int each = new TextChunker(miniLm, settings(Strategy.SENTENCE, 64, 0)).chunk(corpus, PromptTemplate.NONE, null).passages().size();
    TextChunker sixty = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 64, 0, each + each / 2, false));
    assertEquals(
        "makes more than " + (each + each / 2) + " passages of at most 64 tokens, the most allowed for one document (texts 0 to 1 make"
            + " more); raise the passage limit, use longer passages, or keep only the first passages",
        assertThrows(TextRejectedException.class, () -> sixty.chunk(long3, PromptTemplate.NONE, null)).reason());

    TextChunker keepFirst = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 64, 0, 100, true));
    List<TextChunker.Chunks> kept = keepFirst.chunk(texts, PromptTemplate.NONE, null);
    assertEquals(10_000, kept.size());
    assertEquals(100, kept.stream().mapToInt(chunks -> chunks.passages().size()).sum());
    assertEquals(1, kept.get(99).passages().size());
    assertTrue(kept.get(100).passages().isEmpty() && kept.get(100).limited(), "texts past the limit make no passages");

    TextRejectedException empty =
        assertThrows(TextRejectedException.class, () -> strict.chunk(List.of("fine", "\u200b"), PromptTemplate.NONE, null));
    assertEquals(1, empty.index());
    assertEquals("text [1] has nothing to embed: " + EmbeddingInput.NO_CONTENT, empty.getMessage());
  }

  @Test
  void aHugeTextIsSplitOnlyAsFarAsTheLimitNeeds() {
    StringBuilder huge = new StringBuilder();
    while (huge.length() < 10_000_000) {
      huge.append(corpus);
    }
    String text = huge.toString();
    IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
        () -> new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 128, 0, 100, false)).chunk(text, PromptTemplate.NONE, null));
    // 128,520 tokens of the text's 2.5 million: only its start was tokenised (counted, not timed).
    assertEquals(
        "text makes more than 100 passages of at most 128 tokens, the most allowed (it holds more than 128520 tokens); raise the passage limit,"
            + " use longer passages, or keep only the first passages",
        tooMany.getMessage());
    TextChunker.Chunks first = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 128, 0, 100, true)).chunk(text, PromptTemplate.NONE, null);
    assertEquals(100, first.passages().size());
    assertTrue(first.limited());
    // The same first passages as the start of the text alone gives.
    String start100 = text.substring(0, first.passages().get(99).end() + 2000);
    List<Passage> fromStart = new TextChunker(miniLm, new ChunkingSettings(Strategy.SENTENCE, 128, 0, 1000, false)).chunk(start100, PromptTemplate.NONE, null).passages();
    assertEquals(fromStart.subList(0, 100), first.passages());
  }

  @Test
  void tokenSpansInWindowsMatchTheWholeText() {
    StringBuilder text = new StringBuilder();
    while (text.length() < 3 * TextTokenizer.SPAN_WINDOW) {
      text.append(corpus);
    }
    for (TextEmbedder embedder : List.of(miniLm, gemma)) {
      TokenSpans windows = embedder.tokenSpans(text.toString(), Integer.MAX_VALUE - 1);
      TokenSpans whole = embedder.tokenSpans(text.toString());
      assertEquals(whole.size(), windows.size());
      assertTrue(java.util.Arrays.equals(whole.starts(), windows.starts()) && java.util.Arrays.equals(whole.ends(), windows.ends()));
    }
  }

  @Test
  void theLongDocumentsAreLongInGemmaTokens() {
    List<Integer> lengths = LongDocuments.documents().stream().map(d -> gemma.tokenSpans(d.text()).size()).toList();
    assertEquals(LongDocuments.COUNT, lengths.size());
    assertTrue(lengths.stream().allMatch(n -> n >= 1500 && n <= 4500), lengths.toString());
    assertTrue(lengths.stream().filter(n -> n > 2048).count() >= 4, "several past EmbeddingGemma's window: " + lengths);
  }

  @Test
  void settingsAreChecked() {
    assertEquals("max_tokens must be at least 8, got 4",
        assertThrows(IllegalArgumentException.class, () -> new ChunkingSettings(Strategy.SENTENCE, 4, 0, 10, false)).getMessage());
    assertEquals("overlap must be less than half of max_tokens [64], got 32",
        assertThrows(IllegalArgumentException.class, () -> new ChunkingSettings(Strategy.TOKENS, 64, 32, 10, false)).getMessage());
    assertEquals("max_passages must be at least 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> new ChunkingSettings(Strategy.TOKENS, 64, 0, 0, false)).getMessage());
    assertEquals("max_tokens [300] exceeds the 256 tokens the model takes",
        assertThrows(IllegalArgumentException.class, () -> new TextChunker(miniLm, settings(Strategy.SENTENCE, 300, 0))).getMessage());
    assertEquals("unknown chunking strategy [words]; expected one of [sentence, tokens]",
        assertThrows(IllegalArgumentException.class, () -> Strategy.fromName("words")).getMessage());
    TextChunker tight = new TextChunker(gemma, settings(Strategy.SENTENCE, 8, 0));
    int overhead = gemma.tokenize(new EmbeddingInput("a", gemma.prompt(Task.DOCUMENT), "A title")).length() - 1;
    assertTrue(overhead > 8, overhead + " tokens of <bos>, \"title: A title | text: \" and <eos>");
    assertEquals("max_tokens [8] leaves no room for text after the prompt, title and special tokens (" + overhead + " tokens)",
        assertThrows(IllegalArgumentException.class, () -> tight.chunk("Some text.", gemma.prompt(Task.DOCUMENT), "A title")).getMessage());
  }

  @Test
  void passagesEmbedAsTheSameTextsAlone() {
    TextChunker chunker = new TextChunker(miniLm, settings(Strategy.SENTENCE, 48, 0));
    String text = corpus.substring(0, 2000);
    TextChunker.Chunks chunks = chunker.chunk(text, PromptTemplate.NONE, null);
    List<Embedding> together = miniLm.embed(chunks.inputs(text, PromptTemplate.NONE, null), 384);
    for (int i = 0; i < chunks.passages().size(); i++) {
      Embedding alone = miniLm.embed(EmbeddingInput.of(chunks.passages().get(i).text(text), PromptTemplate.NONE), 384);
      assertEquals(alone.tokenCount(), together.get(i).tokenCount());
      assertFalse(together.get(i).truncated());
    }
  }
}
