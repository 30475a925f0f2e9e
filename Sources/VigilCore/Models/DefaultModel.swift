/// The logistic model Vigil scores with when no model file is configured.
///
/// The same document ships as `config/models/default-logistic.json`; a test keeps the two equal.
/// Weights are hand-set from public fraud studies' direction of effect (documented per feature in the
/// file's `note`s), not trained: a starting point until a model trained on your labels replaces it.
public enum DefaultModel {
    public static let json = #"""
        {
          "format": "vigil-logistic/1",
          "name": "default-logistic",
          "version": "1",
          "description": "Hand-set starting model: large amounts, country mismatches, night-time, card-not-present and high-risk merchant categories raise the risk. Replace it with a model trained on your labels.",
          "intercept": -4.6,
          "features": [
            {"name": "log_amount", "weight": 0.85, "mean": 3.6, "scale": 1.3, "note": "ln(1+amount); each 1.3 above ~36 units of currency adds 0.85 log-odds"},
            {"name": "card_merchant_country_mismatch", "weight": 0.9, "mean": 0.1, "scale": 0.3, "note": "cross-border card use is several times likelier to be fraud"},
            {"name": "ip_card_country_mismatch", "weight": 0.75, "mean": 0.08, "scale": 0.27, "note": "the buyer's IP outside the card's country"},
            {"name": "is_night", "weight": 0.35, "mean": 0.2, "scale": 0.4, "note": "00:00-05:59 UTC"},
            {"name": "channel_ecommerce", "weight": 0.4, "mean": 0.4, "scale": 0.49, "note": "card not present"},
            {"name": "channel_contactless", "weight": -0.25, "mean": 0.3, "scale": 0.46, "note": "card present, small amounts"},
            {"name": "mcc_high_risk", "weight": 0.5, "mean": 0.05, "scale": 0.22, "note": "gambling, money transfer, quasi-cash, direct marketing"}
          ]
        }
        """#
}
