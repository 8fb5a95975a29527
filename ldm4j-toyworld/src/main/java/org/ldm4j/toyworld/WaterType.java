package org.ldm4j.toyworld;

/** Open water in a scene: none, a lake lying on the ground, or a sea reaching the horizon. */
public enum WaterType {
    NONE, LAKE, SEA
}
