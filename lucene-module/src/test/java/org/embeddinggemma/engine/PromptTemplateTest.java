package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PromptTemplateTest {

  @Test
  void taskPromptsAreThoseOfTheModelCard() {
    assertEquals("task: search result | query: what is HNSW?", PromptTemplate.forTask(Task.QUERY).apply("what is HNSW?", null));
    assertEquals("task: question answering | query: q", PromptTemplate.forTask(Task.QUESTION_ANSWERING).apply("q", null));
    assertEquals("task: fact checking | query: q", PromptTemplate.forTask(Task.FACT_CHECKING).apply("q", null));
    assertEquals("task: classification | query: q", PromptTemplate.forTask(Task.CLASSIFICATION).apply("q", null));
    assertEquals("task: clustering | query: q", PromptTemplate.forTask(Task.CLUSTERING).apply("q", null));
    assertEquals("task: sentence similarity | query: q", PromptTemplate.forTask(Task.SENTENCE_SIMILARITY).apply("q", null));
    assertEquals("task: code retrieval | query: q", PromptTemplate.forTask(Task.CODE_RETRIEVAL).apply("q", null));
  }

  @Test
  void documentPromptFillsTheTitleOrNone() {
    PromptTemplate document = PromptTemplate.forTask(Task.DOCUMENT);
    assertEquals("title: none | text: body", document.apply("body", null));
    assertEquals("title: none | text: body", document.apply("body", "  "));
    assertEquals("title: Lucene | text: body", document.apply("body", "Lucene"));
  }

  @Test
  void noneAndCustomPrompts() {
    assertEquals("as is", PromptTemplate.NONE.apply("as is", "ignored"));
    assertEquals("passage: text", PromptTemplate.custom("passage: ").apply("text", null));
    assertEquals("[Guide] text", PromptTemplate.custom("[{title}] ").apply("text", "Guide"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptTemplate.custom(""));
    assertEquals("custom prompt must not be empty; use no prompt instead", e.getMessage());
  }

  @Test
  void taskNames() {
    assertEquals(Task.FACT_CHECKING, Task.fromName("fact_checking"));
    assertEquals("code_retrieval", Task.CODE_RETRIEVAL.externalName());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Task.fromName("QUERY"));
    assertEquals(
        "unknown task [QUERY]; expected one of [query, document, question_answering, fact_checking, classification, clustering, sentence_similarity, code_retrieval]",
        e.getMessage());
  }

  @Test
  void blankInputIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddingInput.of(" \n", PromptTemplate.NONE));
    assertEquals("text must not be empty or blank: there is nothing to embed", e.getMessage());
  }
}
