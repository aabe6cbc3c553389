package org.embeddinggemma.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Long documents for chunking tests: each of 24 documents holds 10 of the corpus sentences, from
 * different topics, with paragraphs of archive notes ({@code data/filler.txt}, on none of the
 * corpus topics) before each of them. The documents run to 2,000–4,000 tokens, so that most answers
 * lie past the first few hundred tokens and several past the first 2,048; each corpus question is
 * answered by the one document that holds its sentence.
 */
public final class LongDocuments {

  /** Documents made. */
  public static final int COUNT = 24;

  /**
   * A long document.
   *
   * @param id {@code doc-00} to {@code doc-23}
   * @param title a title, different for each document, naming its first topics
   * @param text paragraphs separated by blank lines
   * @param sentenceIds the corpus sentences it holds, in order
   */
  public record Document(String id, String title, String text, List<String> sentenceIds) {}

  private LongDocuments() {}

  /** The documents, always the same. */
  public static List<Document> documents() {
    List<String> filler = fillerParagraphs();
    List<Corpus.Sentence> sentences = Corpus.sentences();
    List<Document> documents = new ArrayList<>();
    for (int d = 0; d < COUNT; d++) {
      StringBuilder text = new StringBuilder();
      List<String> ids = new ArrayList<>();
      List<String> topics = new ArrayList<>();
      // Two, three or four paragraphs of notes before each sentence.
      int paragraphs = 2 + d % 3;
      int next = d;
      for (int s = d; s < sentences.size(); s += COUNT) {
        for (int p = 0; p < paragraphs; p++) {
          text.append(filler.get(next++ % filler.size())).append("\n\n");
        }
        Corpus.Sentence sentence = sentences.get(s);
        text.append(sentence.text()).append("\n\n");
        ids.add(sentence.id());
        if (topics.size() < 3 && !topics.contains(sentence.topic())) {
          topics.add(sentence.topic());
        }
      }
      documents.add(new Document("doc-%02d".formatted(d), "Notes %02d: %s".formatted(d, String.join(", ", topics)), text.toString().strip(), ids));
    }
    return documents;
  }

  /** The id of the document that holds a corpus sentence. */
  public static String documentOf(String sentenceId) {
    for (Document document : documents()) {
      if (document.sentenceIds().contains(sentenceId)) {
        return document.id();
      }
    }
    throw new IllegalArgumentException("no document holds sentence [" + sentenceId + "]");
  }

  private static List<String> fillerParagraphs() {
    Path path = Path.of(System.getProperty("corpus.directory", "../data")).resolve("filler.txt");
    try {
      return Arrays.stream(Files.readString(path).split("\n\n")).map(String::strip).filter(p -> !p.isEmpty()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
