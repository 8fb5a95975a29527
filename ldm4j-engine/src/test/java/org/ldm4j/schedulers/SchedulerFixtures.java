package org.ldm4j.schedulers;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Rng;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * diffusers' scheduler test fixtures ({@code tests/schedulers/test_schedulers.py}, SchedulerCommonTest):
 * the deterministic 4x3x8x8 sample and noise, the toy model {@code sample * t / (t + 1)}, and the full loop.
 */
final class SchedulerFixtures {
    private SchedulerFixtures() {}

    static final int NUM_ELEMS = 4 * 3 * 8 * 8;

    /** {@code torch.arange(n).reshape(3, 8, 8, 4) / n} permuted to (4, 3, 8, 8). */
    static Tensor dummySampleDeter() {
        return torch.arange(new Scalar(NUM_ELEMS)).reshape(3, 8, 8, 4).div(new Scalar(NUM_ELEMS)).permute(3, 0, 1, 2);
    }

    /** The same, from {@code arange(n).flip(-1)}. */
    static Tensor dummyNoiseDeter() {
        return torch.arange(new Scalar(NUM_ELEMS)).flip(-1).reshape(3, 8, 8, 4).div(new Scalar(NUM_ELEMS)).permute(3, 0, 1, 2);
    }

    /** {@code sample * t / (t + 1)} with t cast to the sample's float32. */
    static Tensor dummyModel(Tensor sample, double t) {
        float tf = (float) t;
        return sample.mul(new Scalar(tf)).div(new Scalar(tf + 1f));
    }

    /** A config from diffusers-style keys, through the same JSON path as {@code scheduler_config.json}. */
    static SchedulerConfig config(Schedulers kind, Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int k = 0; k < keyValues.length; k += 2) map.put((String) keyValues[k], keyValues[k + 1]);
        try {
            return kind.read(Schedulers.MAPPER.writeValueAsString(map));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The tests' loop: {@code sample = scale_model_input(sample, t)} (the scaled sample is what step receives,
     * as in diffusers' Euler/LMS tests), model, step; from step {@code start}, optionally noising the start point.
     */
    static Tensor fullLoop(Scheduler s, boolean scaleByInitSigma, int start, boolean addNoise) {
        Tensor sample = dummySampleDeter();
        if (scaleByInitSigma) sample = sample.mul(new Scalar((float) s.initNoiseSigma()));
        if (addNoise) sample = s.addNoise(sample, dummyNoiseDeter(), start);
        double[] ts = s.timesteps();
        for (int i = start; i < ts.length; i++) {
            try (PointerScope scope = new PointerScope()) {
                sample = s.scaleModelInput(sample, i);
                Tensor out = dummyModel(sample, ts[i]);
                sample = s.step(out, i, sample).prevSample();
                // JavaCPP: detach() releases the scope's reference (freeing the tensor); retain one instead
                sample.retainReference();
            }
        }
        return sample;
    }

    static Tensor fullLoop(Scheduler s, boolean scaleByInitSigma) { return fullLoop(s, scaleByInitSigma, 0, false); }

    static void assertSumMean(Tensor result, double sum, double mean) {
        assertSumMean(result, sum, 1e-2, mean);
    }

    static void assertSumMean(Tensor result, double sum, double sumTolerance, double mean) {
        double s = result.abs().sum().item_double();
        double m = result.abs().mean().item_double();
        assertEquals(sum, s, sumTolerance, "sum of |sample|");
        assertEquals(mean, m, 1e-3, "mean of |sample|");
    }

    static void assertMean(Tensor result, double mean) {
        assertEquals(mean, result.abs().mean().item_double(), 1e-3, "mean of |sample|");
    }

    static Rng seed0() { return new Rng(0); }
}
