package org.embeddinggemma.cli;

/**
 * The arguments of one command, read left to right: the parser {@code bin/embed} and {@code
 * bin/quantize} share, so that both take options and report mistakes the same way.
 */
final class CommandLine {

  private final String[] args;
  private int next;

  CommandLine(String[] args) {
    this.args = args.clone();
  }

  /** Whether arguments are left. */
  boolean hasNext() {
    return next < args.length;
  }

  /** The next argument. */
  String next() {
    return args[next++];
  }

  /** The value of option {@code name}, the next argument. */
  String value(String name) {
    if (!hasNext()) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return next();
  }

  /** A whole-number value of at least 1. */
  int positive(String name) {
    return atLeast(1, name);
  }

  /** A whole-number value of at least {@code least}. */
  int atLeast(int least, String name) {
    String value = value(name);
    try {
      int number = Integer.parseInt(value);
      if (number >= least) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below with the rule
    }
    throw new IllegalArgumentException(name + " must be a whole number of at least " + least + ", got [" + value + "]");
  }

  /** A decimal value above 0. */
  double positiveDecimal(String name) {
    String value = value(name);
    try {
      double number = Double.parseDouble(value);
      if (number > 0 && Double.isFinite(number)) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below with the rule
    }
    throw new IllegalArgumentException(name + " must be a number above 0, got [" + value + "]");
  }
}
