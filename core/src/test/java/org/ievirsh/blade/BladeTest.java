package org.ievirsh.blade;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.NodeResources;
import org.junit.jupiter.api.Test;

class BladeTest {
    private static final long GIB = 1L << 30;

    private static Blade blade(String line) {
        String yaml = "blades:\n  - " + line + "\n";
        ControllerConfig config = ControllerConfig.parse("c.yaml", yaml.getBytes(StandardCharsets.UTF_8)).orThrow();
        Blade blade = new Blade(config.blades().get(0), new FakeBladeLink(new FakeHypervisor("b")));
        blade.node(new NodeResources(32, 64 * GIB));
        return blade;
    }

    @Test
    void eachCapacityFieldLeftOutKeepsWhatTheBladeReports() {
        assertEquals(new ControllerConfig.Resources(8, 64 * GIB),
                blade("{name: b, uri: \"fake:///b\", capacity: {vcpus: 8}}").capacity());
        assertEquals(new ControllerConfig.Resources(32, 16 * GIB),
                blade("{name: b, uri: \"fake:///b\", capacity: {memory: 16GiB}}").capacity());
        assertEquals(new ControllerConfig.Resources(32, 64 * GIB), blade("{name: b, uri: \"fake:///b\"}").capacity());
    }

    @Test
    void reservedIsSubtractedFromWhateverTheCapacityIs() {
        assertEquals(new ControllerConfig.Resources(30, 60 * GIB),
                blade("{name: b, uri: \"fake:///b\", reserved: {vcpus: 2, memory: 4GiB}}").capacity());
        assertEquals(new ControllerConfig.Resources(6, 60 * GIB),
                blade("{name: b, uri: \"fake:///b\", capacity: {vcpus: 8}, reserved: {vcpus: 2, memory: 4GiB}}")
                        .capacity());
    }
}
