package org.embeddinggemma.elasticsearch.ingest;

import java.util.Map;
import org.elasticsearch.ingest.Processor;
import org.embeddinggemma.elasticsearch.EmbeddingService;

/** The processor's factory with {@code Processor.Factory#create} as Elasticsearch 8.19 and 9.0 declare it. */
public final class EmbeddingGemmaProcessorFactory extends EmbeddingGemmaProcessor.Factory {

  /** @see EmbeddingGemmaProcessor.Factory */
  public EmbeddingGemmaProcessorFactory(EmbeddingService service, boolean ingestNode) {
    super(service, ingestNode);
  }

  @Override
  public EmbeddingGemmaProcessor create(Map<String, Processor.Factory> registry, String tag, String description, Map<String, Object> config) {
    return create(tag, description, config);
  }
}
