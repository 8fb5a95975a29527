package org.ldm4j.schedulers;

import java.util.List;

/** Checks on scheduler config values: an unsupported value fails naming its {@code scheduler_config.json} key. */
final class ConfigValues {
    private ConfigValues() {}

    static <T> T or(T value, T fallback) { return value != null ? value : fallback; }

    static String oneOf(String key, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException("scheduler config key '" + key + "': '" + value
                    + "' is not supported (expected one of " + allowed + ")");
        }
        return value;
    }

    static void unsupported(String key, boolean condition, String why) {
        if (condition) throw new IllegalArgumentException("scheduler config key '" + key + "': " + why);
    }

    /** The sigma re-spacings of Euler, LMS and DPM-Solver: Karras or exponential, at most one; beta is not implemented. */
    static void checkSigmaSpacing(boolean useKarrasSigmas, boolean useExponentialSigmas, boolean useBetaSigmas) {
        unsupported("use_beta_sigmas", useBetaSigmas, "beta sigmas are not implemented");
        unsupported("use_karras_sigmas", useKarrasSigmas && useExponentialSigmas,
                "only one of use_karras_sigmas and use_exponential_sigmas can be true");
    }

    static void checkSteps(int steps) {
        if (steps < 1) throw new IllegalArgumentException("number of inference steps must be >= 1, got " + steps);
    }
}
