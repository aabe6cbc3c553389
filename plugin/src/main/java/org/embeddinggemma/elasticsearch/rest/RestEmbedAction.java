package org.embeddinggemma.elasticsearch.rest;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.action.RestCancellableNodeClient;
import org.elasticsearch.rest.action.RestToXContentListener;
import org.elasticsearch.xcontent.XContentParser;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.action.EmbedAction;

/**
 * {@code POST _embedding_gemma/_embed} with {@code {"texts": [...], "model_id", "task", "prompt",
 * "title", "dims", "element_type"}}: the vectors, token counts and whether each text was truncated.
 */
public final class RestEmbedAction extends BaseRestHandler {

  private static final Set<String> KEYS = Set.of("model_id", "texts", "task", "prompt", "title", "dims", "element_type");

  @Override
  public String getName() {
    return "embedding_gemma_embed_action";
  }

  @Override
  public List<Route> routes() {
    return List.of(new Route(RestRequest.Method.POST, "/_embedding_gemma/_embed"));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest restRequest, NodeClient client) throws IOException {
    Map<String, Object> body;
    try (XContentParser parser = restRequest.contentParser()) {
      body = parser.map();
    }
    for (String key : body.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown field [" + key + "]; expected one of " + new java.util.TreeSet<>(KEYS));
      }
    }
    EmbedAction.Request request =
        new EmbedAction.Request(
            string(body, "model_id"),
            texts(body.get("texts")),
            string(body, "task"),
            string(body, "prompt"),
            string(body, "title"),
            integer(body, "dims"),
            string(body, "element_type"),
            EmbeddingStats.Source.REST);
    return channel -> new RestCancellableNodeClient(client, restRequest.getHttpChannel())
        .execute(EmbedAction.INSTANCE, request, new RestToXContentListener<>(channel));
  }

  private static String string(Map<String, Object> body, String key) {
    Object value = body.get(key);
    if (value == null || value instanceof String) {
      return (String) value;
    }
    throw new IllegalArgumentException("[" + key + "] must be a string, got [" + value + "]");
  }

  /** A whole number, given as a number or a string as pipelines accept it. */
  private static Integer integer(Map<String, Object> body, String key) {
    Object value = body.get(key);
    if (value == null || value instanceof Integer) {
      return (Integer) value;
    }
    if (value instanceof String text) {
      try {
        return Integer.parseInt(text.trim());
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new IllegalArgumentException("[" + key + "] must be a whole number, got [" + value + "]");
  }

  private static List<String> texts(Object value) {
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException("[texts] must be an array of strings, got [" + value + "]");
    }
    List<String> texts = new ArrayList<>(list.size());
    for (Object text : list) {
      if (!(text instanceof String string)) {
        throw new IllegalArgumentException("[texts] must be an array of strings, got element [" + text + "]");
      }
      texts.add(string);
    }
    return texts;
  }
}
