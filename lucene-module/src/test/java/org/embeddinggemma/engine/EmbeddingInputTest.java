package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/** Texts with nothing a tokenizer turns into tokens are refused, not embedded as special tokens alone. */
class EmbeddingInputTest {

  @Test
  void textsOfOnlyInvisibleCharactersHaveNoContent() {
    for (String empty : List.of("\u200b\u200b", "\u0000", "\ud800", " \t\n\u00a0\u3000", "\ufeff\u200d\u2060", "\udc00\ud800")) {
      assertFalse(EmbeddingInput.hasContent(empty), empty.codePoints().boxed().toList().toString());
      assertEquals(
          "text has nothing to embed: it holds only whitespace, control, format or unpaired surrogate characters",
          assertThrows(IllegalArgumentException.class, () -> EmbeddingInput.of(empty, PromptTemplate.NONE)).getMessage());
    }
  }

  @Test
  void anyVisibleCharacterIsContent() {
    for (String text : List.of("a", "\u200bx", "日本", "😀", "\u0000.", "\ud83d\ude00", "\ue000")) {
      assertTrue(EmbeddingInput.hasContent(text), text);
    }
  }

  /**
   * A lone surrogate and an unassigned code point pass the character check, but BERT's normaliser
   * drops both: MiniLM would embed its special tokens alone. The tokenizer is asked, and the text is
   * refused, alone or named by its place among others.
   */
  @Test
  void aTextTheTokenizerTurnsIntoNoTokensIsRefused() {
    String dropped = "\udfff\ud800\udc7f";
    assertTrue(EmbeddingInput.hasContent(dropped));
    assertFalse(EmbeddingInput.hasAssignedCharacter(dropped));
    try (TextEmbedder miniLm = TextEmbedder.open(TestModels.miniLm(), new EmbedderSettings(1, 8))) {
      TextRejectedException alone =
          assertThrows(TextRejectedException.class, () -> miniLm.embed(EmbeddingInput.of(dropped, PromptTemplate.NONE), 384));
      assertEquals("text has nothing to embed: it makes no tokens", alone.getMessage());
      TextRejectedException inBatch =
          assertThrows(
              TextRejectedException.class,
              () -> miniLm.embed(List.of(EmbeddingInput.of("fine", PromptTemplate.NONE), EmbeddingInput.of(dropped, PromptTemplate.NONE)), 384));
      assertEquals(1, inBatch.index());
      assertEquals(384, miniLm.embed(EmbeddingInput.of("\ue000 x", PromptTemplate.NONE), 384).dims());
    }
  }
}
