package org.embeddinggemma.quantization;

import java.util.List;

/**
 * The texts a graph is run on to measure each layer's quantisation error: documents of several
 * lengths (a few tokens to over a hundred, so that attention products are seen at more than one
 * key count), plain prose of the kind an index holds.
 */
public final class CalibrationTexts {

  private CalibrationTexts() {}

  /** The texts, shortest first. */
  public static final List<String> TEXTS =
      List.of(
          "Mars is known as the Red Planet.",
          "How do I reset a forgotten password?",
          "The committee approved the budget for next year after a long debate about road repairs.",
          "Photosynthesis converts light energy into chemical energy. Plants, algae and some bacteria use it to make "
              + "sugars from carbon dioxide and water, releasing oxygen as a by-product.",
          "The first transatlantic telegraph cable was completed in 1858, but it failed after three weeks. A durable "
              + "connection came in 1866, when the steamship Great Eastern laid a new cable between Ireland and "
              + "Newfoundland. Messages that had taken ten days by ship now crossed the ocean in minutes, and news, "
              + "prices and diplomatic notes began to move at the speed of electricity. Merchants in London and New "
              + "York could compare cotton prices on the same afternoon, and newspapers printed foreign dispatches "
              + "that were hours, not weeks, old.",
          "Sourdough bread rises through a culture of wild yeast and lactic acid bacteria. Bakers feed the starter "
              + "flour and water every day; when it doubles within a few hours it is ready to leaven a dough. The "
              + "bacteria give the loaf its sour taste and help it keep longer than bread made with commercial "
              + "yeast. A long, cool fermentation develops flavour, and a very hot oven with steam gives the crust "
              + "its colour and crackle. Whole-grain flours ferment faster than white flour, so a baker who changes "
              + "flour adjusts the timing, the temperature of the water and the amount of starter in the dough, "
              + "and watches the dough rather than the clock.");
}
