package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
}
