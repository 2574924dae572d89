package dev.tandem.ha;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.campaign.Availability;
import dev.tandem.campaign.Campaign;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.junit.jupiter.api.Test;

/**
 * The short fault campaign (CI): a fixed seed, a few faults, on both setups, on real processes. The long one is
 * {@code bin/tandem-bench campaign --minutes 30}.
 */
class CampaignTest {
    static final long SEED = Long.getLong("tandem.campaign.seed", 22);
    static final int FAULTS = Integer.getInteger("tandem.campaign.faults", 6);

    /** Under target/, so that the history of a failed run is there to read afterwards. */
    static Path root(String name) throws Exception {
        Path root = Path.of("target", "campaign", name).toAbsolutePath();
        if (Files.exists(root)) {
            try (var all = Files.walk(root)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return Files.createDirectories(root);
    }

    @Test
    void aPairAndAWitnessWithMajorityQuorumKeepEveryGuarantee() throws Exception {
        keepsEveryGuarantee(Campaign.Setup.MAJORITY);
    }

    @Test
    void aPairAloneWithQuorumNoneKeepsEveryGuarantee() throws Exception {
        keepsEveryGuarantee(Campaign.Setup.NONE);
    }

    private static void keepsEveryGuarantee(Campaign.Setup setup) throws Exception {
        Campaign.Result r = Campaign.run(root(setup.name().toLowerCase(java.util.Locale.ROOT)), setup, SEED, FAULTS, System.out);
        System.out.print(Availability.table(Availability.of(r.rounds())));
        assertThat(r.violations()).as("violations (the history is in " + r.history() + ")").isEmpty();
        assertThat(r.rounds()).hasSize(FAULTS);
    }
}
