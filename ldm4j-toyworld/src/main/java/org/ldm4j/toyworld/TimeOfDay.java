package org.ldm4j.toyworld;

/** Lighting of a scene: sky gradient, sun or moon, how lit the ground and objects are. */
public enum TimeOfDay {
    DAY, SUNSET, NIGHT
}
