"""The readable per-claim table that `superbill claims` prints."""

from __future__ import annotations

from superbill.engine.claims import Claim, money, quantity_text


def claims_table(claim: Claim, book) -> str:
    letters = "ABCDEFGHIJKL"
    out = [
        f"Claim {claim.claim_id}  date {claim.date_of_service}  POS {claim.place_of_service}  "
        f"provider {claim.provider.display_name} (NPI {claim.provider_npi})",
        "  Diagnoses: " + "  ".join(f"{letters[i]} {code}" for i, code in enumerate(claim.diagnoses)),
        f"  {'code':<7} {'mods':<9} {'units':>5} {'charge':>10}  {'ptr':<5} description",
    ]
    for line in claim.lines:
        pointers = "".join(letters[p - 1] for p in line.pointers if 1 <= p <= 12)
        charge = money(line.charge) if line.charge is not None else "no fee"
        out.append(f"  {line.code:<7} {'-'.join(line.modifiers):<9} {line.units:>5} {charge:>10}  "
                   f"{pointers:<5} {line.description}")
        if line.ndc:
            out.append(f"  {'':<7} NDC {line.ndc} {line.ndc_unit} {quantity_text(line.ndc_quantity)}")
    out.append(f"  {'total':<23} {money(claim.total_charge):>10}   paid {money(claim.amount_paid)}"
               f"   balance {money(claim.balance)}")
    return "\n".join(out) + "\n"
