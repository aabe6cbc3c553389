package org.embeddinggemma.engine;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Splits a text into passages measured in the model's own tokens, so that every passage, with the
 * task prompt, the title and the special tokens, fits {@link ChunkingSettings#maxTokens()} (and so
 * the model's window). Each passage knows its offsets in the text; together they cover all of it,
 * with nothing between them but whitespace. Sentences come from the JDK's Unicode sentence rules,
 * which also end sentences at {@code 。！？}; offsets never split a surrogate pair. Thread-safe.
 */
public final class TextChunker {

  /**
   * The passages of one text.
   *
   * @param passages in text order
   * @param found how many passages the text made (or, for a text far past the limit, of which only
   *     the start was split, more than the limit); more than {@code passages.size()} when only the
   *     first ones were kept
   */
  public record Chunks(List<Passage> passages, int found) {

    /** Whether passages past the limit were left out. */
    public boolean limited() {
      return found > passages.size();
    }

    /** The passages as inputs to embed, with a prompt and title. */
    public List<EmbeddingInput> inputs(String text, PromptTemplate prompt, String title) {
      List<EmbeddingInput> inputs = new ArrayList<>(passages.size());
      for (Passage passage : passages) {
        inputs.add(new EmbeddingInput(passage.text(text), prompt, title));
      }
      return inputs;
    }
  }

  private final TextEmbedder embedder;
  private final ChunkingSettings settings;

  /**
   * @throws IllegalArgumentException if passages would be longer than the model's window
   */
  public TextChunker(TextEmbedder embedder, ChunkingSettings settings) {
    if (settings.maxTokens() > embedder.maxTokens()) {
      throw new IllegalArgumentException(
          "max_tokens [" + settings.maxTokens() + "] exceeds the " + embedder.maxTokens() + " tokens the model takes");
    }
    this.embedder = embedder;
    this.settings = settings;
  }

  /**
   * Splits a text.
   *
   * @throws IllegalArgumentException if the text has nothing to embed, if the prompt and title
   *     leave no room for text, or if it makes more than {@link ChunkingSettings#maxPassages()}
   *     passages and the first ones are not to be kept
   */
  public Chunks chunk(String text, PromptTemplate prompt, String title) {
    return chunk(text, prompt, title, settings.maxPassages());
  }

  /**
   * Splits the texts of one document, the passage limit counting all of them together: past it the
   * document fails (before anything is embedded) or, if the first passages are to be kept, the
   * texts after the limit are not split at all and later elements make no passages.
   *
   * @return the passages of each text, in order; texts after the limit have none
   * @throws TextRejectedException naming the text's index if a text has nothing to embed, or if the
   *     texts together make more than {@link ChunkingSettings#maxPassages()} passages and the first
   *     ones are not to be kept
   */
  public List<Chunks> chunk(List<String> texts, PromptTemplate prompt, String title) {
    if (texts.size() == 1) {
      return List.of(chunk(texts.get(0), prompt, title));
    }
    int limit = settings.maxPassages();
    if (texts.size() > limit && !settings.keepFirstPassages()) {
      // Every text makes a passage at least: no need to split any of them to know.
      throw tooManyPassages(texts.size() + " texts");
    }
    List<Chunks> all = new ArrayList<>(texts.size());
    int used = 0;
    for (int i = 0; i < texts.size(); i++) {
      if (used == limit) {
        all.add(new Chunks(List.of(), 1));
        continue;
      }
      Chunks chunks;
      try {
        chunks = chunk(texts.get(i), prompt, title, limit - used);
      } catch (TextRejectedException e) {
        throw used > 0 && e.reason().startsWith(TOO_MANY) ? tooManyPassages("texts 0 to " + i) : e.at(i);
      }
      used += chunks.passages().size();
      all.add(chunks);
    }
    return List.copyOf(all);
  }

  private static final String TOO_MANY = "makes ";

  private TextRejectedException tooManyPassages(String what) {
    return new TextRejectedException(
        -1,
        TOO_MANY + "more than " + settings.maxPassages() + " passages of at most " + settings.maxTokens()
            + " tokens, the most allowed for one document (" + what + " make more); raise the passage limit, use longer"
            + " passages, or keep only the first passages");
  }

  private Chunks chunk(String text, PromptTemplate prompt, String title, int maxPassages) {
    if (!EmbeddingInput.hasContent(text)) {
      throw new TextRejectedException(-1, "has nothing to embed: " + EmbeddingInput.NO_CONTENT);
    }
    int overhead = embedder.tokenize(new EmbeddingInput("a", prompt, title)).length() - embedder.tokenSpans("a").size();
    int budget = settings.maxTokens() - overhead;
    if (budget < 1) {
      throw new IllegalArgumentException(
          "max_tokens [" + settings.maxTokens() + "] leaves no room for text after the prompt, title and special tokens ("
              + overhead + " tokens)");
    }
    // Passage k ends within k * budget tokens: a text past (limit + 2) * budget tokens makes more
    // passages than allowed, and its first passages lie within them (one to spare for the cut).
    // Failing texts are split up to ten times further, so that the error can say how many
    // passages a text makes unless it is far past the limit.
    long mostTokens = (long) (maxPassages + 2) * budget * (settings.keepFirstPassages() ? 1 : 10);
    TokenSpans spans = embedder.tokenSpans(text, (int) Math.min(Integer.MAX_VALUE - 1, mostTokens));
    boolean cut = spans.size() > mostTokens;
    if (spans.size() == 0) {
      throw TextRejectedException.noTokens(-1);
    }
    if (cut && !settings.keepFirstPassages()) {
      throw new TextRejectedException(
          -1,
          TOO_MANY + "more than " + maxPassages + " passages of at most " + settings.maxTokens()
              + " tokens, the most allowed (it holds more than " + mostTokens + " tokens); raise the passage limit, use longer"
              + " passages, or keep only the first passages");
    }
    if (settings.strategy() == ChunkingSettings.Strategy.TOKENS && settings.overlap() >= budget) {
      throw new IllegalArgumentException(
          "overlap [" + settings.overlap() + "] must be less than the " + budget + " tokens a passage of max_tokens ["
              + settings.maxTokens() + "] has for text after the prompt, title and special tokens");
    }
    List<int[]> ranges =
        settings.strategy() == ChunkingSettings.Strategy.TOKENS
            ? windows(text, spans, 0, spans.size(), budget, settings.overlap())
            : sentences(text, spans, budget);
    // When the tokenising stopped early, the last range may end there, not where the text does.
    int kept = cut ? ranges.size() - 1 : ranges.size();
    List<Passage> passages = new ArrayList<>(kept);
    for (int i = 0; i < kept; i++) {
      int next = i + 1 < ranges.size() ? spans.starts()[ranges.get(i + 1)[0]] : text.length();
      fit(text, spans, ranges.get(i), i == 0 ? 0 : spans.starts()[ranges.get(i)[0]], next, prompt, title, passages);
    }
    if (cut) {
      return new Chunks(List.copyOf(passages.subList(0, Math.min(passages.size(), maxPassages))), passages.size() + 1);
    }
    if (passages.size() > maxPassages) {
      if (!settings.keepFirstPassages()) {
        throw new TextRejectedException(
            -1,
            TOO_MANY + passages.size() + " passages of at most " + settings.maxTokens() + " tokens, more than the "
                + maxPassages + " allowed; raise the passage limit, use longer passages, or keep only the first passages");
      }
      return new Chunks(List.copyOf(passages.subList(0, maxPassages)), passages.size());
    }
    return new Chunks(List.copyOf(passages), passages.size());
  }

  /**
   * Adds the passage of tokens {@code range}, reaching back to {@code from} and on towards {@code
   * next} (the next passage's start) over characters no token holds; cut again, shorter, in the
   * rare case that the prompt and the passage tokenise together into more tokens than apart.
   */
  private void fit(String text, TokenSpans spans, int[] range, int from, int next, PromptTemplate prompt, String title, List<Passage> out) {
    int start = skipWhitespace(text, from, spans.ends()[range[1] - 1]);
    int end = trimWhitespace(text, start, Math.max(spans.ends()[range[1] - 1], next));
    String passage = text.substring(start, end);
    if (!EmbeddingInput.hasContent(passage)) {
      // Tokens of whitespace alone (Gemma has them for runs of spaces and newlines): between passages.
      return;
    }
    int tokens = embedder.tokenize(new EmbeddingInput(passage, prompt, title)).length();
    if (tokens <= settings.maxTokens() || range[1] - range[0] == 1) {
      out.add(new Passage(start, end, tokens));
      return;
    }
    // Two halves, cut where a word starts near the middle, rather than a full passage and a sliver.
    int middle = range[0] + (range[1] - range[0]) / 2;
    int cut = middle;
    for (int distance = 0; distance <= (range[1] - range[0]) / 4; distance++) {
      if (middle - distance > range[0] && startsWord(text, spans, middle - distance)) {
        cut = middle - distance;
        break;
      }
      if (middle + distance < range[1] && startsWord(text, spans, middle + distance)) {
        cut = middle + distance;
        break;
      }
    }
    while (cut > range[0] + 1 && !betweenCharacters(spans, cut)) {
      cut--;
    }
    List<int[]> pieces = List.of(new int[] {range[0], cut}, new int[] {cut, range[1]});
    for (int i = 0; i < pieces.size(); i++) {
      int pieceNext = i + 1 < pieces.size() ? spans.starts()[pieces.get(i + 1)[0]] : next;
      fit(text, spans, pieces.get(i), i == 0 ? start : spans.starts()[pieces.get(i)[0]], pieceNext, prompt, title, out);
    }
  }

  /**
   * Token ranges of at most {@code size} tokens over [from, to), the next starting {@code overlap}
   * tokens before the last one ends. A window ends before a word-starting token where one lies in
   * its last quarter, so that words stay whole where they can.
   */
  private static List<int[]> windows(String text, TokenSpans spans, int from, int to, int size, int overlap) {
    List<int[]> windows = new ArrayList<>();
    int start = from;
    while (true) {
      int end = Math.min(to, start + size);
      if (end < to) {
        int cut = end;
        while (cut > start + size * 3 / 4 && !startsWord(text, spans, cut)) {
          cut--;
        }
        if (!startsWord(text, spans, cut)) {
          // No word starts near the end: cut anywhere but inside a character that several tokens
          // spell (byte fallback for emoji and rare characters).
          cut = end;
          while (cut > start + 1 && !betweenCharacters(spans, cut)) {
            cut--;
          }
        }
        end = betweenCharacters(spans, cut) ? cut : end;
      }
      windows.add(new int[] {start, end});
      if (end == to) {
        return windows;
      }
      int next = Math.max(start + 1, end - overlap);
      // An overlap reaches back to the start of a word.
      while (overlap > 0 && next > start + 1 && !startsWord(text, spans, next)) {
        next--;
      }
      while (next < end && !betweenCharacters(spans, next)) {
        next++;
      }
      start = next;
    }
  }

  /** Whether token {@code t} begins a word: after whitespace or punctuation, or in a script written without spaces. */
  private static boolean startsWord(String text, TokenSpans spans, int t) {
    if (!betweenCharacters(spans, t)) {
      return false;
    }
    if (t == 0 || spans.starts()[t] > spans.ends()[t - 1] || spans.starts()[t] == 0) {
      return true;
    }
    int current = text.codePointAt(spans.starts()[t]);
    int previous = text.codePointBefore(spans.starts()[t]);
    if (!Character.isLetterOrDigit(current) || !Character.isLetterOrDigit(previous)) {
      return true;
    }
    return WITHOUT_SPACES.contains(Character.UnicodeScript.of(current)) || WITHOUT_SPACES.contains(Character.UnicodeScript.of(previous));
  }

  /** Whether token {@code t} starts where the one before ends, not inside the same character. */
  private static boolean betweenCharacters(TokenSpans spans, int t) {
    return t == 0 || spans.starts()[t] >= spans.ends()[t - 1];
  }

  private static final Set<Character.UnicodeScript> WITHOUT_SPACES =
      EnumSet.of(
          Character.UnicodeScript.HAN, Character.UnicodeScript.HIRAGANA, Character.UnicodeScript.KATAKANA,
          Character.UnicodeScript.THAI, Character.UnicodeScript.LAO, Character.UnicodeScript.KHMER,
          Character.UnicodeScript.MYANMAR, Character.UnicodeScript.TIBETAN);

  /** Whole sentences packed up to {@code budget} tokens, with {@code overlap} sentences repeated. */
  private List<int[]> sentences(String text, TokenSpans spans, int budget) {
    List<int[]> sentenceTokens = sentenceTokens(text, spans);
    List<int[]> ranges = new ArrayList<>();
    List<int[]> current = new ArrayList<>();
    for (int[] sentence : sentenceTokens) {
      if (sentence[1] - sentence[0] > budget) {
        flush(current, ranges);
        current.clear();
        ranges.addAll(windows(text, spans, sentence[0], sentence[1], budget, 0));
        continue;
      }
      if (!current.isEmpty() && sentence[1] - current.get(0)[0] > budget) {
        flush(current, ranges);
        List<int[]> repeated = new ArrayList<>(current.subList(Math.max(0, current.size() - settings.overlap()), current.size()));
        while (!repeated.isEmpty() && sentence[1] - repeated.get(0)[0] > budget) {
          repeated.remove(0);
        }
        current = repeated;
      }
      current.add(sentence);
    }
    flush(current, ranges);
    return ranges;
  }

  private static void flush(List<int[]> sentences, List<int[]> ranges) {
    if (!sentences.isEmpty()) {
      ranges.add(new int[] {sentences.get(0)[0], sentences.get(sentences.size() - 1)[1]});
    }
  }

  /**
   * Each sentence as a range of tokens, a token belonging to the sentence that holds its last
   * character (Gemma's tokens carry the space before a word); sentences without tokens left out.
   */
  private static List<int[]> sentenceTokens(String text, TokenSpans spans) {
    BreakIterator sentences = BreakIterator.getSentenceInstance(Locale.ROOT);
    sentences.setText(text);
    List<int[]> ranges = new ArrayList<>();
    int token = 0;
    for (int end = sentences.next(); end != BreakIterator.DONE && token < spans.size(); end = sentences.next()) {
      int first = token;
      while (token < spans.size() && Math.max(spans.starts()[token], spans.ends()[token] - 1) < end) {
        token++;
      }
      if (token > first) {
        ranges.add(new int[] {first, token});
      }
    }
    if (token < spans.size()) {
      ranges.add(new int[] {token, spans.size()});
    }
    return ranges;
  }

  private static int skipWhitespace(String text, int from, int limit) {
    int start = from;
    while (start < limit && Character.isWhitespace(text.charAt(start))) {
      start++;
    }
    return start;
  }

  private static int trimWhitespace(String text, int start, int end) {
    int trimmed = end;
    while (trimmed > start + 1 && Character.isWhitespace(text.charAt(trimmed - 1))) {
      trimmed--;
    }
    return trimmed;
  }
}
