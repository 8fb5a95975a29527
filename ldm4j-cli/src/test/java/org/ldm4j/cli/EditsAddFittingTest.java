package org.ldm4j.cli;

import org.junit.jupiter.api.Test;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.train.toyworld.ToyWorldMaps;

import static org.junit.jupiter.api.Assertions.*;

/** eval fgdm edits' "add": an object that can stand where it is painted, in the generator's outline. */
class EditsAddFittingTest {
    static final Palette PALETTE = ToyWorldMaps.palette();

    /** Sky above row 24, then {@code ground} below. */
    static ClassMap scene(ToyClass ground, ToyClass... present) {
        int[] labels = new int[64 * 64];
        for (int p = 0; p < labels.length; p++) labels[p] = PALETTE.classOf((p / 64 < 24 ? ToyClass.SKY : ground).label());
        for (int i = 0; i < present.length; i++) labels[30 * 64 + 2 + 4 * i] = PALETTE.classOf(present[i].label());   // a pixel each, far left
        return new ClassMap(64, 64, labels);
    }

    static ToyClass added(ClassMap before, ClassMap after) {
        ToyClass added = null;
        for (int p = 0; p < before.labels().length; p++) {
            if (before.labels()[p] != after.labels()[p]) {
                ToyClass c = ToyClass.of(after.labels()[p]);
                assertTrue(added == null || added == c, "one class painted");
                added = c;
            }
        }
        return added;
    }

    @Test void theFirstMissingClassThatFitsItsFootingIsAdded() {
        ClassMap grass = scene(ToyClass.GRASS);
        ClassMap edited = EvalFgdmEditsCommand.addFitting(grass, PALETTE);
        assertEquals(ToyClass.HOUSE, added(grass, edited), "nothing present: the first object class");
        assertTrue(edited.area(PALETTE.classOf("house")) > 100, "a house of a quarter of the height");

        ClassMap withHouseAndTree = scene(ToyClass.GRASS, ToyClass.HOUSE, ToyClass.TREE);
        assertEquals(ToyClass.FLOWERS, added(withHouseAndTree, EvalFgdmEditsCommand.addFitting(withHouseAndTree, PALETTE)),
                "no boat on grass: the next missing class that stands on land");

        ClassMap water = scene(ToyClass.WATER, ToyClass.HOUSE);
        assertEquals(ToyClass.BOAT, added(water, EvalFgdmEditsCommand.addFitting(water, PALETTE)), "on water only a boat fits");

        ClassMap allOnWater = scene(ToyClass.WATER, ToyClass.HOUSE, ToyClass.TREE, ToyClass.BOAT, ToyClass.FLOWERS, ToyClass.CAR, ToyClass.ROCK);
        assertEquals(ToyClass.BOAT, added(allOnWater, EvalFgdmEditsCommand.addFitting(allOnWater, PALETTE)), "every class present: one that fits");

        assertNull(EvalFgdmEditsCommand.addFitting(scene(ToyClass.MOUNTAIN), PALETTE), "nothing stands on a mountain: skipped");
    }
}
