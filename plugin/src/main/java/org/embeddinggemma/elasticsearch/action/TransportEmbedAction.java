package org.embeddinggemma.elasticsearch.action;

import java.util.List;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.support.ActionFilters;
import org.elasticsearch.action.support.HandledTransportAction;
import org.elasticsearch.common.util.concurrent.EsExecutors;
import org.elasticsearch.injection.guice.Inject;
import org.elasticsearch.tasks.CancellableTask;
import org.elasticsearch.tasks.Task;
import org.elasticsearch.transport.TransportService;
import org.embeddinggemma.elasticsearch.ElementType;
import org.embeddinggemma.elasticsearch.EmbeddingService;
import org.embeddinggemma.elasticsearch.EmbeddingStats;
import org.embeddinggemma.elasticsearch.search.QueryEmbeddingCache;
import org.embeddinggemma.engine.TextRejectedException;

/** Runs {@link EmbedAction} on the local node through the {@link EmbeddingService}. */
public final class TransportEmbedAction extends HandledTransportAction<EmbedAction.Request, EmbedAction.Response> {

  private final EmbeddingService service;
  private final QueryEmbeddingCache queryCache;

  @Inject
  public TransportEmbedAction(
      TransportService transportService, ActionFilters actionFilters, EmbeddingService service, QueryEmbeddingCache queryCache) {
    super(EmbedAction.NAME, transportService, actionFilters, EmbedAction.Request::new, EsExecutors.DIRECT_EXECUTOR_SERVICE);
    this.service = service;
    this.queryCache = queryCache;
  }

  @Override
  protected void doExecute(Task task, EmbedAction.Request request, ActionListener<EmbedAction.Response> responseListener) {
    // A rejected text is named as the caller wrote it: [texts][3] for _embed, [model_text] for the query builder.
    ActionListener<EmbedAction.Response> listener = responseListener.delegateResponse((delegate, e) -> delegate.onFailure(
        e instanceof TextRejectedException rejected ? new IllegalArgumentException(request.subject(rejected.index()) + " " + rejected.reason()) : e));
    String modelId = request.modelId() == null ? service.defaultModelId() : request.modelId();
    ElementType elementType = request.elementType();
    EmbeddingService.Limits limits = service.limits();
    if (request.texts().size() > limits.maxEmbedTexts()) {
      listener.onFailure(new IllegalArgumentException(
          "[texts] holds " + request.texts().size() + " texts, more than the " + limits.maxEmbedTexts()
              + " that [embedding_gemma.embed.max_texts] allows; send fewer texts per request"));
      return;
    }
    long characters = request.texts().stream().mapToLong(String::length).sum();
    if (characters > limits.maxEmbedCharacters()) {
      listener.onFailure(new IllegalArgumentException(
          "[texts] hold " + characters + " characters, more than the " + limits.maxEmbedCharacters()
              + " that [embedding_gemma.embed.max_characters] allows; send fewer or shorter texts per request"));
      return;
    }
    if (request.texts().size() == 1) {
      QueryEmbeddingCache.Key key =
          request.source() == EmbeddingStats.Source.QUERY
              ? new QueryEmbeddingCache.Key(modelId, request.texts().get(0), request.title(), request.promptSpec(), request.dims(), elementType)
              : null;
      EmbedAction.Result cached = key == null ? null : queryCache.get(key);
      if (cached != null) {
        listener.onResponse(new EmbedAction.Response(modelId, elementType, List.of(cached)));
        return;
      }
      service.embed(
          modelId, request.texts().get(0), request.title(), request.promptSpec(), request.dims(), request.source(),
          listener.map(embedding -> {
            EmbedAction.Result result = EmbedAction.Result.of(embedding, elementType);
            if (key != null) {
              queryCache.put(key, result);
            }
            return new EmbedAction.Response(modelId, elementType, List.of(result));
          }));
    } else {
      service.embedAll(
          modelId, request.texts(), request.title(), request.promptSpec(), request.dims(), request.source(), (CancellableTask) task,
          listener.map(embeddings -> new EmbedAction.Response(
              modelId, elementType, embeddings.stream().map(embedding -> EmbedAction.Result.of(embedding, elementType)).toList())));
    }
  }
}
