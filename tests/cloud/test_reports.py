"""Balance sheet and profit and loss, assembled from monthly figures an agent uploaded."""

from __future__ import annotations

from typing import Any

from tests.cloud.drive import claim_type, complete
from tests.support.cloud_harness import CloudHarness


def _line(value: float, *items: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {"value": value}
    if items:
        line["items"] = list(items)
    return line


def _account(account_id: str, name: str, value: float) -> dict[str, Any]:
    return {"accountId": account_id, "name": name, "value": value}


def _pnl(month: str, design: float, rent: float) -> dict[str, Any]:
    return {
        "id": month,
        "currency": "USD",
        "reportBasis": "Accrual",
        "fromDate": f"{month}-01T00:00:00",
        "income": _line(design, _account("a1", "Design", design)),
        "expenses": _line(rent, _account("a2", "Rent", rent)),
        "grossProfit": design,
        "netOperatingProfit": design - rent,
        "netOtherIncome": 0,
        "netProfit": design - rent,
    }


def _bs(month: str, cash: float) -> dict[str, Any]:
    return {
        "id": month,
        "currency": "USD",
        "assets": _line(cash, _account("a0", "Checking", cash)),
        "liabilities": _line(0),
        "equity": _line(cash),
        "netAssets": cash,
    }


def _synced(cloud: CloudHarness, data_type: str, records: list[dict[str, Any]]) -> str:
    company_id = cloud.new_company()
    agent = cloud.linked_agent(company_id)
    cloud.http.post(f"/companies/{company_id}/data/queue/{data_type}", headers=cloud.auth)
    dataset = claim_type(cloud, agent, data_type)
    complete(cloud, agent, dataset["id"], records)
    return company_id


def test_profit_and_loss_adds_up_the_months_of_each_period(cloud: CloudHarness) -> None:
    months = [_pnl("2026-01", 1000, 400), _pnl("2026-02", 1500, 400), _pnl("2026-03", 500, 450)]
    company_id = _synced(cloud, "profitAndLoss", months)
    response = cloud.http.get(
        f"/companies/{company_id}/data/financials/profitAndLoss",
        params={"periodLength": 2, "periodsToCompare": 2, "startMonth": "2026-01-01"},
        headers=cloud.auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "USD" and body["reportBasis"] == "Accrual"
    assert body["earliestAvailableMonth"] == "2026-01-01T00:00:00"
    assert body["mostRecentAvailableMonth"] == "2026-03-01T00:00:00"
    latest, earliest = body["reports"]  # most recent first
    assert (earliest["fromDate"], earliest["toDate"]) == (
        "2026-01-01T00:00:00",
        "2026-02-28T00:00:00",
    )
    assert earliest["income"]["value"] == 2500
    assert earliest["income"]["items"] == [{"accountId": "a1", "name": "Design", "value": 2500}]
    assert earliest["netProfit"] == 1700
    assert (latest["fromDate"], latest["toDate"]) == ("2026-03-01T00:00:00", "2026-04-30T00:00:00")
    assert latest["expenses"]["value"] == 450


def test_balance_sheet_shows_each_period_end_carrying_balances_forward(
    cloud: CloudHarness,
) -> None:
    company_id = _synced(cloud, "balanceSheet", [_bs("2026-01", 100), _bs("2026-03", 300)])
    body = cloud.http.get(
        f"/companies/{company_id}/data/financials/balanceSheet",
        params={"periodLength": 1, "periodsToCompare": 3},
        headers=cloud.auth,
    ).json()
    assert [r["date"] for r in body["reports"]] == [
        "2026-03-31T00:00:00",
        "2026-02-28T00:00:00",
        "2026-01-31T00:00:00",
    ]
    assert [r["netAssets"] for r in body["reports"]] == [300, 100, 100]  # February carried


def test_report_parameters_are_required_and_checked(cloud: CloudHarness) -> None:
    company_id = _synced(cloud, "balanceSheet", [_bs("2026-01", 100)])
    path = f"/companies/{company_id}/data/financials/balanceSheet"
    assert cloud.http.get(path, headers=cloud.auth).status_code == 400
    bad = cloud.http.get(
        path, params={"periodLength": 13, "periodsToCompare": 1}, headers=cloud.auth
    )
    assert bad.status_code == 400 and "periodLength" in bad.json()["error"]
    never = cloud.new_company()
    unsynced = cloud.http.get(
        f"/companies/{never}/data/financials/profitAndLoss",
        params={"periodLength": 1, "periodsToCompare": 1},
        headers=cloud.auth,
    )
    assert unsynced.status_code == 409
