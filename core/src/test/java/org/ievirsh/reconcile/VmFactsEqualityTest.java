package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.ievirsh.image.Inspection;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.posix.FileStat;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserIndex;
import org.junit.jupiter.api.Test;

/**
 * VmFacts, VmHistory, Desired.Valid, ObservedDomain, FileStat and
 * UserIndex.Entry write their equals out (for the speed of a resync); a
 * component left out of it would make a changed VM look unchanged. Each
 * component, changed alone, must make the value unequal.
 */
class VmFactsEqualityTest {

    @Test
    void everyComponentOfTheFactsCounts() throws Exception {
        PlannerFixture f = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN);
        f.inspection = new Inspection(Inspection.State.CLEAN, true, "", null);
        f.history = new VmHistory(Instant.EPOCH, true, Instant.EPOCH,
                new VmHistory.LastStop(Instant.EPOCH, StopReason.CRASHED, false), 2, Instant.EPOCH,
                List.of(Instant.EPOCH));
        f.imageInUseBy = "db";
        VmFacts facts = f.facts();
        everyComponentCounts(facts);
        everyComponentCounts(facts.asked());
        everyComponentCounts(facts.seen());
        everyComponentCounts(facts.allowed());
        everyComponentCounts(facts.target());
        everyComponentCounts(facts.seen().history());
        everyComponentCounts((Desired.Valid) facts.asked().desired());
        everyComponentCounts(((Observation.Found) facts.seen().observation()).domain());
    }

    @Test
    void everyComponentOfWhatAQuietStudentIsComparedByCounts() throws Exception {
        everyComponentCounts(new FileStat(FileStat.Type.REGULAR, 0644, 1001, 100, 3, 4, 5, 6, 7, 8));
        everyComponentCounts(new UserIndex.Entry(Path.of("/home/alice/ie-virsh"), 1001,
                new Owner("alice", 1001, 100, List.of(), 1001, 100)));
    }

    private static void everyComponentCounts(Record value) throws Exception {
        RecordComponent[] components = value.getClass().getRecordComponents();
        Constructor<?> canonical = value.getClass().getDeclaredConstructor(
                Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            values[i] = components[i].getAccessor().invoke(value);
        }
        assertEquals(value, canonical.newInstance(values));
        assertEquals(value.hashCode(), canonical.newInstance(values).hashCode());
        for (int i = 0; i < components.length; i++) {
            Object[] changed = values.clone();
            changed[i] = other(components[i], values[i]);
            assertNotEquals(value, canonical.newInstance(changed), components[i].getName() + " of "
                    + value.getClass().getSimpleName() + " is left out of equals");
        }
    }

    private static Object other(RecordComponent component, Object value) {
        Class<?> type = component.getType();
        if (type == boolean.class) {
            return !(Boolean) value;
        }
        if (type == int.class) {
            return (Integer) value + 1;
        }
        if (type == long.class) {
            return (Long) value + 1;
        }
        assertNotNull(value, component.getName() + ": the fixture must set every component");
        return null;
    }
}
