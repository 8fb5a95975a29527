package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;

import java.util.Map;
import java.util.Set;

/**
 * One FG-DM run.
 *
 * @param mode        SEQUENTIAL (each factor's whole chain, then its children: the released code, needed by SBPC) or
 *                    JOINT (all factors step together, the paper's eqs. 4-6)
 * @param switchedOff factors not run; their children get the null condition (CFG training makes any subset runnable)
 * @param given       factors not sampled but given (an edited map, SBPC's chosen map): their values are fixed
 */
public record FactorGraphRequest(String prompt, long seed, Mode mode, Set<String> switchedOff, Map<String, Given> given) {
    public enum Mode { SEQUENTIAL, JOINT }

    /**
     * A given factor value: its latents (as the UNet sees them, scaled) and/or its decoded map (1, 3, H, W) in
     * [-1, 1]. A consumer that needs what is missing gets the map encoded (posterior mean) or the latents decoded.
     */
    public record Given(Tensor latents, Tensor image) {
        public Given {
            if (latents == null && image == null) throw new IllegalArgumentException("a given factor value needs latents or an image");
        }
    }

    public FactorGraphRequest {
        if (prompt == null) throw new IllegalArgumentException("prompt is missing");
        if (mode == null) throw new IllegalArgumentException("sampling mode is missing (sequential or joint)");
        switchedOff = switchedOff == null ? Set.of() : Set.copyOf(switchedOff);
        given = given == null ? Map.of() : Map.copyOf(given);
        for (String g : given.keySet()) {
            if (switchedOff.contains(g)) throw new IllegalArgumentException("factor '" + g + "' is both given and switched off");
        }
    }

    public static FactorGraphRequest of(String prompt, long seed, Mode mode) { return new FactorGraphRequest(prompt, seed, mode, Set.of(), Map.of()); }

    public FactorGraphRequest withSeed(long s) { return new FactorGraphRequest(prompt, s, mode, switchedOff, given); }

    public FactorGraphRequest withSwitchedOff(Set<String> off) { return new FactorGraphRequest(prompt, seed, mode, off, given); }

    public FactorGraphRequest withGiven(Map<String, Given> g) { return new FactorGraphRequest(prompt, seed, mode, switchedOff, g); }
}
