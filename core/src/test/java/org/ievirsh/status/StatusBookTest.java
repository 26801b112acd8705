package org.ievirsh.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.junit.jupiter.api.Test;

/** StatusBook: the counts it keeps as statuses change are those of the statuses it holds. */
class StatusBookTest {
    private static final List<String> BLADES = java.util.Arrays.asList("b1", "b2", null);

    private static VmStatus status(Random random, String user, String vm) {
        Phase phase = Phase.values()[random.nextInt(Phase.values().length)];
        List<Condition> conditions = new ArrayList<>();
        conditions.add(new Condition(Condition.ADMITTED, random.nextBoolean() ? "True" : "False", "r", "", null));
        if (random.nextInt(3) == 0) {
            conditions.add(new Condition(Condition.EXPIRING, random.nextBoolean() ? "True" : "False", "r", "", null));
        }
        return new VmStatus(vm, new VmStatus.Owner(user, 1000), phase, "", conditions,
                BLADES.get(random.nextInt(BLADES.size())), null, null, null, null, List.of(), 1, "1Gi", "t", "i", null,
                "h", null);
    }

    @Test
    void theCountsFollowEveryPutAndRemoval() {
        Random random = new Random(7);
        StatusBook book = new StatusBook();
        for (int step = 0; step < 2000; step++) {
            String user = "u" + random.nextInt(30);
            if (random.nextInt(6) == 0) {
                book.removeUser(user);
            } else {
                Map<String, VmStatus> vms = new HashMap<>();
                int count = random.nextInt(5);  // none at all: the user is forgotten
                for (int v = 0; v < count; v++) {
                    vms.put("vm" + v, status(random, user, "vm" + v));
                }
                book.putUser(user, vms);
            }
            if (step % 50 == 0) {
                assertCountsAreThoseOf(book);
            }
        }
        assertCountsAreThoseOf(book);
    }

    private static void assertCountsAreThoseOf(StatusBook book) {
        Map<String, Map<Phase, Integer>> byBlade = new HashMap<>();
        int expiring = 0;
        for (VmStatus s : book.all()) {
            byBlade.computeIfAbsent(s.blade() == null ? "none" : s.blade(), b -> new EnumMap<>(Phase.class))
                    .merge(s.phase(), 1, Integer::sum);
            Condition c = s.condition(Condition.EXPIRING);
            expiring += s.phase() != Phase.Expired && c != null && c.status().equals("True") ? 1 : 0;
        }
        Map<String, Map<Phase, Integer>> kept = new HashMap<>(book.countByBladeAndPhase());
        kept.values().removeIf(Map::isEmpty);
        assertEquals(byBlade, kept);
        assertEquals(expiring, book.countExpiring());
        for (Phase phase : Phase.values()) {
            assertEquals(book.all().stream().filter(s -> s.phase() == phase).count(), book.count(phase), phase.name());
        }
        for (int u = 0; u < 30; u++) {
            String user = "u" + u;
            long admitted = book.ofUser(user).values().stream()
                    .filter(s -> "True".equals(s.condition(Condition.ADMITTED).status())).count();
            assertEquals(admitted, book.admitted(user), user);
        }
    }
}
