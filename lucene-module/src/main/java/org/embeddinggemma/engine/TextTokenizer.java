package org.embeddinggemma.engine;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Turns text into model token ids with a HuggingFace {@code tokenizer.json} (through DJL's binding
 * of the Rust tokenizers library), adding the special tokens the model asks for and truncating to
 * the model's maximum sequence length.
 *
 * <p>Special tokens are added by id, never read from the text: a text that spells {@code <bos>},
 * {@code <pad>} or EmbeddingGemma 2's media placeholder {@code <|image|>} is tokenised as the
 * characters it holds (see {@link SpecialTokenVocabulary}).
 *
 * <p>Truncation keeps the special tokens: a text longer than {@link #maxTokens()} loses its tail,
 * not its {@code <eos>}, and the result says that it was truncated. Thread-safe.
 */
public final class TextTokenizer implements AutoCloseable {

  private final HuggingFaceTokenizer tokenizer;
  private final int maxTokens;
  private final long prependId;
  private final long appendId;
  /** Tokens that tokenizer.json's post-processor puts after the text, kept when the text is cut. */
  private final int trailingSpecials;
  /** The longest the tokenizer's own output may be, so that the added tokens fit in {@link #maxTokens}. */
  private final int room;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxTokens, long prependId, long appendId, int trailingSpecials) {
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
    this.prependId = prependId;
    this.appendId = appendId;
    this.trailingSpecials = trailingSpecials;
    this.room = maxTokens - (prependId < 0 ? 0 : 1) - (appendId < 0 ? 0 : 1);
  }

  /**
   * Loads a tokenizer.
   *
   * @param tokenizerJson the {@code tokenizer.json} file
   * @param specialTokens the special tokens the model's tokenizer config asks for
   * @param maxTokens the longest sequence the model takes, special tokens included; at least 2
   * @throws IllegalArgumentException if {@code maxTokens} is below 2
   * @throws ModelLoadException if the file or the native tokenizer library cannot be loaded, or a
   *     special token is not a single token of the vocabulary
   */
  public static TextTokenizer load(Path tokenizerJson, SpecialTokens specialTokens, int maxTokens) {
    if (maxTokens < 2) {
      throw new IllegalArgumentException("maxTokens must be at least 2, got " + maxTokens);
    }
    // User text is text: a document that spells <bos> or EmbeddingGemma 2's <|image|> must not
    // reach the graph as that token.
    SpecialTokenVocabulary vocabulary = SpecialTokenVocabulary.read(tokenizerJson);
    // The Rust tokenizer takes a second to parse Gemma's 33 MB tokenizer.json: it is opened once,
    // truncating at maxTokens, and cut further in encode when special tokens are added here.
    HuggingFaceTokenizer tokenizer = open(tokenizerJson, vocabulary.tokenizerJson(), maxTokens);
    try {
      // What does tokenizer.json's post-processor add by itself? Only the rest is added here.
      long[] sample = tokenizer.encode("a").getIds();
      long[] bare = tokenizer.encode("a", false, false).getIds();
      int leading = indexOf(sample, bare);
      if (bare.length == 0 || leading < 0) {
        throw new ModelLoadException(
            "tokenizer [" + tokenizerJson + "] encodes \"a\" as " + Arrays.toString(sample) + " with its special tokens and as "
                + Arrays.toString(bare) + " without them; the second must lie inside the first");
      }
      long prependId = missingToken(tokenizer, vocabulary, specialTokens.addBos(), specialTokens.bosToken(), sample[0]);
      long appendId = missingToken(tokenizer, vocabulary, specialTokens.addEos(), specialTokens.eosToken(), sample[sample.length - 1]);
      int trailing = sample.length - leading - bare.length;
      int added = (prependId < 0 ? 0 : 1) + (appendId < 0 ? 0 : 1);
      if (maxTokens - added <= leading + trailing) {
        throw new IllegalArgumentException(
            "maxTokens must leave room for text after " + (leading + trailing + added) + " special tokens, got " + maxTokens);
      }
      return new TextTokenizer(tokenizer, maxTokens, prependId, appendId, trailing);
    } catch (RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  private static int indexOf(long[] array, long[] part) {
    for (int start = 0; start + part.length <= array.length; start++) {
      if (Arrays.equals(array, start, start + part.length, part, 0, part.length)) {
        return start;
      }
    }
    return -1;
  }

  private static long missingToken(
      HuggingFaceTokenizer tokenizer, SpecialTokenVocabulary vocabulary, boolean wanted, String token, long presentId) {
    if (!wanted) {
      return -1;
    }
    Long special = vocabulary.ids().get(token);
    if (special != null) {
      return special == presentId ? -1 : special;
    }
    long[] ids = tokenizer.encode(token, false, false).getIds();
    if (ids.length != 1) {
      throw new ModelLoadException(
          "special token ["
              + token
              + "] from tokenizer_config.json is "
              + ids.length
              + " tokens in tokenizer.json, expected exactly one; check that both files belong to the same model");
    }
    return ids[0] == presentId ? -1 : ids[0];
  }

  private static HuggingFaceTokenizer open(Path tokenizerJson, String json, int maxLength) {
    NativeRuntime.prepare();
    Map<String, String> options =
        Map.of(
            "addSpecialTokens", "true",
            "padding", "false",
            "truncation", "true",
            "maxLength", Integer.toString(maxLength),
            "modelMaxLength", Integer.toString(maxLength));
    // DJL finds its native library's version file through the context class loader; inside a
    // plugin that is the host's loader, which cannot see it.
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(TextTokenizer.class.getClassLoader());
    try {
      return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), options);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read tokenizer [" + tokenizerJson + "]", e);
    } catch (RuntimeException | LinkageError | AssertionError e) {
      throw new ModelLoadException(
          "cannot load tokenizer ["
              + tokenizerJson
              + "]; the file must be a HuggingFace tokenizer.json and the tokenizers native library must load on this platform",
          e);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** The longest sequence produced, special tokens included. */
  public int maxTokens() {
    return maxTokens;
  }

  /** Text in several scripts, whose tokens start the search for the largest id. */
  private static final String VOCABULARY_SAMPLE = "Hello world, 42! Grüße, ¿qué? Привет мир. 日本語のテキスト。한국어 텍스트. नमस्ते दुनिया. مرحبا بالعالم 😀🚀";

  /**
   * The largest id of the vocabulary's ordinary tokens, special added tokens (such as Gemma's
   * image token, which lies past the model's embedding table) left out. Found by decoding ids
   * upwards from the largest id of a multilingual sample: vocabularies number their tokens without
   * gaps.
   */
  public long largestTokenId() {
    long known = 0;
    for (long id : tokenizer.encode(VOCABULARY_SAMPLE, false, false).getIds()) {
      known = Math.max(known, id);
    }
    long step = 1;
    long beyond = known + step;
    while (isToken(beyond)) {
      known = beyond;
      step *= 2;
      beyond = known + step;
    }
    while (beyond - known > 1) {
      long middle = (known + beyond) >>> 1;
      if (isToken(middle)) {
        known = middle;
      } else {
        beyond = middle;
      }
    }
    return known;
  }

  private boolean isToken(long id) {
    return id < Integer.MAX_VALUE && !tokenizer.decode(new long[] {id}, true).isEmpty();
  }

  /** Tokenises one text. */
  public TokenizedText encode(String text) {
    Encoding encoding = tokenizer.encode(text);
    long[] ids = encoding.getIds();
    boolean truncated = encoding.exceedMaxLength();
    if (ids.length > room) {
      // As the tokenizer truncates: the text's last tokens go, the post-processor's stay.
      long[] cut = new long[room];
      System.arraycopy(ids, 0, cut, 0, room - trailingSpecials);
      System.arraycopy(ids, ids.length - trailingSpecials, cut, room - trailingSpecials, trailingSpecials);
      ids = cut;
      truncated = true;
    }
    if (prependId >= 0 || appendId >= 0) {
      int offset = prependId >= 0 ? 1 : 0;
      long[] withSpecial = new long[ids.length + offset + (appendId >= 0 ? 1 : 0)];
      System.arraycopy(ids, 0, withSpecial, offset, ids.length);
      if (prependId >= 0) {
        withSpecial[0] = prependId;
      }
      if (appendId >= 0) {
        withSpecial[withSpecial.length - 1] = appendId;
      }
      ids = withSpecial;
    }
    return new TokenizedText(ids, truncated);
  }

  /**
   * Where each of a text's own tokens (no special tokens, no truncation) lies in it.
   *
   * @return per token, its start and end offsets in UTF-16 code units ({@code String} indices)
   */
  public TokenSpans tokenSpans(String text) {
    IntList starts = new IntList();
    IntList ends = new IntList();
    encodeSpans(text, 0, text.length(), starts, ends);
    return new TokenSpans(starts.toArray(), ends.toArray());
  }

  /** Characters tokenised at once by {@link #tokenSpans(String, int)}. */
  static final int SPAN_WINDOW = 1 << 16;

  /**
   * As {@link #tokenSpans(String)}, stopping once more than {@code most} tokens are found, so that
   * a huge text costs no more than its start. The text is tokenised in windows of about {@value
   * #SPAN_WINDOW} characters that end before a run of whitespace, where the tokenizers split
   * anyway, so the spans are those of the whole text.
   */
  public TokenSpans tokenSpans(String text, int most) {
    IntList starts = new IntList();
    IntList ends = new IntList();
    int from = 0;
    while (from < text.length() && starts.size <= most) {
      int to = windowEnd(text, from);
      encodeSpans(text, from, to, starts, ends);
      from = to;
    }
    return new TokenSpans(starts.toArray(), ends.toArray());
  }

  private static int windowEnd(String text, int from) {
    if (text.length() - from <= SPAN_WINDOW) {
      return text.length();
    }
    int end = from + SPAN_WINDOW;
    int cut = end;
    while (cut > from + SPAN_WINDOW / 2 && !Character.isWhitespace(text.charAt(cut))) {
      cut--;
    }
    if (Character.isWhitespace(text.charAt(cut))) {
      while (cut > from + 1 && Character.isWhitespace(text.charAt(cut - 1))) {
        cut--;
      }
      return cut;
    }
    // No whitespace near: cut anywhere but inside a surrogate pair.
    return Character.isLowSurrogate(text.charAt(end)) ? end - 1 : end;
  }

  private void encodeSpans(String text, int from, int to, IntList starts, IntList ends) {
    String window = text.substring(from, to);
    Encoding first = tokenizer.encode(window, false, true);
    List<Encoding> encodings = new ArrayList<>();
    encodings.add(first);
    // Truncation hands the rest of a long window back as overflowing encodings, in order.
    encodings.addAll(Arrays.asList(first.getOverflowing()));
    // The tokenizer counts offsets in code points; Java strings index UTF-16 code units.
    int[] utf16 = new int[window.codePointCount(0, window.length()) + 1];
    for (int codePoint = 0, index = 0; codePoint < utf16.length; codePoint++) {
      utf16[codePoint] = index;
      if (index < window.length()) {
        index += Character.charCount(window.codePointAt(index));
      }
    }
    for (Encoding encoding : encodings) {
      for (CharSpan span : encoding.getCharTokenSpans()) {
        starts.add(from + utf16[Math.min(span.getStart(), utf16.length - 1)]);
        ends.add(from + utf16[Math.min(span.getEnd(), utf16.length - 1)]);
      }
    }
  }

  /** A growable int array. */
  private static final class IntList {
    int[] values = new int[256];
    int size;

    void add(int value) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = value;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
