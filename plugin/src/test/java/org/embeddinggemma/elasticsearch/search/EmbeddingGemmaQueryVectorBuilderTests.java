package org.embeddinggemma.elasticsearch.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.elasticsearch.common.Strings;
import org.elasticsearch.common.io.stream.BytesStreamOutput;
import org.elasticsearch.xcontent.XContentParseException;
import org.elasticsearch.xcontent.XContentParser;
import org.elasticsearch.xcontent.XContentParserConfiguration;
import org.elasticsearch.xcontent.json.JsonXContent;
import org.junit.jupiter.api.Test;

class EmbeddingGemmaQueryVectorBuilderTests {

  static EmbeddingGemmaQueryVectorBuilder parse(String json) throws IOException {
    try (XContentParser parser = JsonXContent.jsonXContent.createParser(XContentParserConfiguration.EMPTY, json)) {
      return EmbeddingGemmaQueryVectorBuilder.fromXContent(parser);
    }
  }

  @Test
  void xContentRoundTrip() throws IOException {
    String json = "{\"model_id\":\"gemma\",\"model_text\":\"red planet\",\"task\":\"question_answering\",\"dims\":256,\"element_type\":\"byte\"}";
    EmbeddingGemmaQueryVectorBuilder builder = parse(json);
    assertEquals(json, Strings.toString(builder));
    assertEquals(builder, parse(Strings.toString(builder)));
    assertEquals("{\"model_text\":\"only text\"}", Strings.toString(parse("{\"model_text\": \"only text\"}")));
  }

  @Test
  void wireRoundTrip() throws IOException {
    for (EmbeddingGemmaQueryVectorBuilder builder :
        new EmbeddingGemmaQueryVectorBuilder[] {
          new EmbeddingGemmaQueryVectorBuilder("m", "text", null, "search: ", 128, "float"),
          new EmbeddingGemmaQueryVectorBuilder(null, "text", "none", null, null, null)
        }) {
      try (BytesStreamOutput out = new BytesStreamOutput()) {
        builder.writeTo(out);
        EmbeddingGemmaQueryVectorBuilder read = new EmbeddingGemmaQueryVectorBuilder(out.bytes().streamInput());
        assertEquals(builder, read);
        assertEquals(builder.hashCode(), read.hashCode());
      }
    }
  }

  @Test
  void invalidOptionsAreRejectedWithTheirNames() throws IOException {
    assertEquals(
        "[embedding_gemma] [model_text] is empty: there is no text to embed",
        new EmbeddingGemmaQueryVectorBuilder(null, " ", null, null, null, null).validate().getMessage());
    assertEquals(
        "[embedding_gemma] [task] and [prompt] cannot both be set; use one",
        new EmbeddingGemmaQueryVectorBuilder(null, "t", "query", "q: ", null, null).validate().getMessage());
    assertEquals(
        "[embedding_gemma] unknown task [search]; expected one of [query, document, question_answering, fact_checking, classification, clustering, sentence_similarity, code_retrieval, none]",
        new EmbeddingGemmaQueryVectorBuilder(null, "t", "search", null, null, null).validate().getMessage());
    assertEquals(
        "[embedding_gemma] unknown element_type [int4]; expected one of [byte, float]; [dims] must be at least 1, got 0",
        new EmbeddingGemmaQueryVectorBuilder(null, "t", null, null, 0, "int4").validate().getMessage());
    assertEquals(
        "[embedding_gemma] model_id [a/b] is invalid: use only letters, digits, '-', '_' and '.', and not '.' or '..'",
        new EmbeddingGemmaQueryVectorBuilder("a/b", "t", null, null, null, null).validate().getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> parse("{\"task\": \"query\"}"));
    assertEquals("Required [model_text]", missing.getMessage());
    // dims as the processor and _embed take it: a fraction is refused, not cut to a whole number.
    XContentParseException fraction = assertThrows(XContentParseException.class, () -> parse("{\"model_text\": \"t\", \"dims\": 1.5}"));
    assertEquals("[dims] must be a whole number, got [1.5]", fraction.getCause().getMessage());
    assertEquals(Integer.valueOf(128), parse("{\"model_text\": \"t\", \"dims\": \"128\"}").dims());
    XContentParseException unknown = assertThrows(XContentParseException.class, () -> parse("{\"model_text\": \"t\", \"text\": \"u\"}"));
    assertEquals("[1:21] [embedding_gemma] unknown field [text]", unknown.getMessage());
  }
}
