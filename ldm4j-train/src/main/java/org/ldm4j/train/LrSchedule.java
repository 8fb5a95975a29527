package org.ldm4j.train;

/** Linear warm-up, then constant or cosine decay to {@code minFactor}·peak at {@code totalSteps}. */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, boolean cosine, double minFactor) {
    public double at(long step) {
        if (warmupSteps > 0 && step < warmupSteps) return peak * (step + 1) / warmupSteps;
        if (!cosine) return peak;
        double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        return peak * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
