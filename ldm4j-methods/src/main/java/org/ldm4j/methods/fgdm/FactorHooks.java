package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.List;
import java.util.function.Function;

/**
 * Extra step hooks for a factor's reverse chain in sequential sampling, made when the factor starts: its parents are
 * final then, so a hook may steer the factor toward them ({@link MapGuidance}).
 */
@FunctionalInterface
public interface FactorHooks {
    FactorHooks NONE = (factor, scheduler, parentMap) -> List.of();

    /**
     * @param parentMap a parent's map by factor name, (1, 3, H, W) in [-1, 1] (decoded, or as given)
     * @return hooks run before the sampler's own, in order; empty for none
     */
    List<StepHook> create(Factor factor, Scheduler scheduler, Function<String, Tensor> parentMap);
}
