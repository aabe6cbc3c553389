package org.embeddinggemma.cli;

import java.util.Arrays;

/**
 * The one entry point of the engine's command-line tools, which {@code bin/embed} and {@code
 * bin/quantize} launch: the first argument names the tool, the rest are its own.
 */
public final class Tools {

  private Tools() {}

  /** Runs the tool named by the first argument and exits with its status. */
  public static void main(String[] args) {
    String tool = args.length == 0 ? "" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    int status = switch (tool) {
      case "embed" -> EmbedCommand.run(rest, System.in, System.out, System.err);
      case "quantize" -> QuantizeCommand.run(rest, System.out, System.err);
      default -> {
        System.err.println("usage: Tools embed|quantize [arguments]; got [" + tool + "]");
        yield 2;
      }
    };
    System.exit(status);
  }
}
